package dbfile_test

import (
	"fmt"

	"workbook/internal/dbfile"
)

// URI makes the "file:" URI that SQLite's options follow, such as
// "?mode=rw", which opens the file for reading and writing but never
// creates it. A '?' or '#' in the file's name stays part of the name.
func ExampleURI() {
	fmt.Println(dbfile.URI("users.db") + "?mode=rw")
	fmt.Println(dbfile.URI("/home/me/my data/users.db") + "?mode=rw")
	fmt.Println(dbfile.URI("what?.db") + "?mode=rw")
	// Output:
	// file:users.db?mode=rw
	// file:///home/me/my%20data/users.db?mode=rw
	// file:what%3F.db?mode=rw
}
