package pyrow_test

import (
	"fmt"

	"workbook/internal/pyrow"
)

// A Row prints as Python's print prints the tuple that Python's sqlite3
// returns for the same row.
func ExampleRow() {
	fmt.Println(pyrow.Row{int64(1), "Alice Smith", "alice.smith@example.com", int64(30)})
	fmt.Println(pyrow.Row{int64(4), "Finn O'Brien", nil, 41.5})
	fmt.Println(pyrow.Row{int64(25)})
	// Output:
	// (1, 'Alice Smith', 'alice.smith@example.com', 30)
	// (4, "Finn O'Brien", None, 41.5)
	// (25,)
}
