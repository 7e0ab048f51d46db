package pyrow_test

// These tests hold Row's printing to Python itself: where python3 is
// installed, Python's repr prints the same values, and the two outputs
// must match byte for byte. Where it is not, the expectations written here
// still run.

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"workbook/internal/pyrow"
	"workbook/internal/workbooktest"
)

func TestRowWritesPythonsRepr(t *testing.T) {
	tests := []struct {
		name string
		row  pyrow.Row
		want string
	}{
		{"the guide's row", pyrow.Row{int64(1), "Alice Smith", "alice.smith@example.com", int64(30)}, "(1, 'Alice Smith', 'alice.smith@example.com', 30)"},
		{"one element keeps its comma", pyrow.Row{int64(25)}, "(25,)"},
		{"no elements", pyrow.Row{}, "()"},
		{"NULL is None", pyrow.Row{nil}, "(None,)"},
		{"a ' switches to double quotes", pyrow.Row{"Finn O'Brien"}, `("Finn O'Brien",)`},
		{"both quotes keep single ones", pyrow.Row{`say "it's"`}, `('say "it\'s"',)`},
		{"escapes", pyrow.Row{"a\\b\tc\nd\re\x00f\x7f"}, `('a\\b\tc\nd\re\x00f\x7f',)`},
		{"non-ASCII kept", pyrow.Row{"Zoë 東京 🙂"}, "('Zoë 東京 🙂',)"},
		{"non-printable escaped", pyrow.Row{"\u00a0\u00ad\u200b\u2028\ue000\U000e0001"}, `('\xa0\xad\u200b\u2028\ue000\U000e0001',)`},
		{"floats", pyrow.Row{41.5, 50.0, 1e16, 1e15, 0.1, 1e-5, 0.0001, math.Copysign(0, -1), 123456789012345.6}, "(41.5, 50.0, 1e+16, 1000000000000000.0, 0.1, 1e-05, 0.0001, -0.0, 123456789012345.6)"},
		{"infinities", pyrow.Row{math.Inf(1), math.Inf(-1)}, "(inf, -inf)"},
		{"int64 limits", pyrow.Row{int64(math.MaxInt64), int64(math.MinInt64)}, "(9223372036854775807, -9223372036854775808)"},
		{"bytes", pyrow.Row{[]byte("a'b\x00\xff\\"), []byte{}, []byte(`'"`)}, `(b"a'b\x00\xff\\", b'', b'\'"')`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.row.String(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// python is a Python process that reads one JSON-encoded tuple of values a
// line and writes back repr of the tuple, and, for each str in it, which
// characters Python counts as printable. It stops when the test ends.
type python struct {
	in  *json.Encoder
	out *bufio.Scanner
}

// pythonRepr is the script: values come as JSON, with bytes as
// {"b": hex} and floats as {"f": float.hex()} so that no digit is lost.
const pythonRepr = `
import json, sys
def decode(v):
    if isinstance(v, dict) and "b" in v: return bytes.fromhex(v["b"])
    if isinstance(v, dict) and "f" in v: return float.fromhex(v["f"])
    return v
for line in sys.stdin:
    row = tuple(decode(v) for v in json.loads(line))
    masks = ["".join("1" if c.isprintable() else "0" for c in v) for v in row if isinstance(v, str)]
    print(json.dumps([repr(row), masks]), flush=True)
`

// startPython starts the script, or returns nil where there is no Python.
// A Python that stops answering is ended by the test binary's deadline.
func startPython(t testing.TB) *python {
	t.Helper()
	path := workbooktest.PythonWith(t, "json")
	if path == "" {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, path, "-c", pythonRepr)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cancel()
		cmd.Wait()
	})
	out := bufio.NewScanner(stdout)
	out.Buffer(nil, 1<<20)
	return &python{in: json.NewEncoder(stdin), out: out}
}

// repr asks Python for repr(tuple(row)) and the printable masks of its str
// values.
func (p *python) repr(t testing.TB, row pyrow.Row) (string, []string) {
	t.Helper()
	values := make([]any, len(row))
	for i, v := range row {
		switch v := v.(type) {
		case []byte:
			values[i] = map[string]string{"b": hex.EncodeToString(v)}
		case float64:
			values[i] = map[string]string{"f": strconv.FormatFloat(v, 'x', -1, 64)}
		default:
			values[i] = v
		}
	}
	if err := p.in.Encode(values); err != nil {
		t.Fatalf("sending %v to Python: %v", row, err)
	}
	if !p.out.Scan() {
		t.Fatalf("Python stopped: %v", p.out.Err())
	}
	var answer []json.RawMessage
	if err := json.Unmarshal(p.out.Bytes(), &answer); err != nil || len(answer) != 2 {
		t.Fatalf("Python answered %q: %v", p.out.Text(), err)
	}
	var repr string
	var masks []string
	if err := json.Unmarshal(answer[0], &repr); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(answer[1], &masks); err != nil {
		t.Fatal(err)
	}
	return repr, masks
}

// sameUnicode reports whether Go's unicode tables agree with Python's on
// which characters of row's strings are printable. Each language ships its
// own version of Unicode (Go 1.26 has 15.0, Python 3.11 has 14.0), so a
// character assigned in between prints differently, and that is no bug of
// Row's.
func sameUnicode(row pyrow.Row, masks []string) bool {
	i := 0
	for _, v := range row {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var mask strings.Builder
		for _, r := range s {
			if unicode.IsPrint(r) {
				mask.WriteByte('1')
			} else {
				mask.WriteByte('0')
			}
		}
		if i >= len(masks) || mask.String() != masks[i] {
			return false
		}
		i++
	}
	return true
}

// assertLikePython compares row's String with Python's repr of the same
// values.
func assertLikePython(t *testing.T, p *python, row pyrow.Row) {
	t.Helper()
	want, masks := p.repr(t, row)
	if got := row.String(); got != want {
		if !sameUnicode(row, masks) {
			t.Logf("skipped: Go and Python disagree on which characters are printable in %s", want)
			return
		}
		t.Errorf("got  %s\nwant %s (Python)", got, want)
	}
}

func TestRowMatchesPythonOnGeneratedValues(t *testing.T) {
	workbooktest.Slow(t, "compares thousands of generated values with Python")
	p := startPython(t)
	if p == nil {
		t.Skip("no Python to compare with")
	}
	rng := rand.New(rand.NewPCG(7, 2025))
	for range 3000 {
		row := make(pyrow.Row, rng.IntN(4))
		for i := range row {
			row[i] = randomValue(rng)
		}
		assertLikePython(t, p, row)
	}
}

// randomValue is one value of a kind Python's sqlite3 returns: None, int,
// float, str or bytes, drawn to hit the edges of each repr rule.
func randomValue(rng *rand.Rand) any {
	switch rng.IntN(5) {
	case 0:
		return nil
	case 1:
		switch rng.IntN(3) {
		case 0:
			return int64(rng.Uint64())
		case 1:
			return []int64{0, -1, math.MaxInt64, math.MinInt64, 1 << 53}[rng.IntN(5)]
		}
		return rng.Int64N(2000) - 1000
	case 2:
		return randomFloat(rng)
	case 3:
		return randomText(rng)
	}
	b := make([]byte, rng.IntN(12))
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return b
}

func randomFloat(rng *rand.Rand) float64 {
	switch rng.IntN(4) {
	case 0:
		// Any bits at all, but NaN, which SQLite stores as NULL.
		if f := math.Float64frombits(rng.Uint64()); !math.IsNaN(f) {
			return f
		}
		return 0
	case 1:
		// Around the switch to exponent form: 1e-5..1e-4 and 1e15..1e17.
		exp := []int{-6, -5, -4, -3, 14, 15, 16, 17}[rng.IntN(8)]
		return (rng.Float64()*9 + 1) * math.Pow10(exp)
	case 2:
		return float64(rng.Int64N(1e6)) / []float64{1, 2, 4, 10, 100}[rng.IntN(5)]
	}
	return []float64{0, math.Copysign(0, -1), 0.1, 1e16, 1e-5, 5e-324, math.MaxFloat64, math.Inf(1), math.Inf(-1), 41.5, 50}[rng.IntN(11)]
}

// randomText mixes the characters whose repr differs: quotes, backslash,
// controls, Latin-1, format and space characters, private use, and letters
// and symbols from across Unicode.
func randomText(rng *rand.Rand) string {
	pools := [][2]rune{
		{0x20, 0x7e}, {0x00, 0x1f}, {0x7f, 0xff}, {0x300, 0x36f}, {0x370, 0x52f},
		{0x2000, 0x206f}, {0x3000, 0x303f}, {0x4e00, 0x4e80}, {0xe000, 0xe010},
		{0xfff0, 0xffff}, {0x1f300, 0x1f64f}, {0xe0000, 0xe007f}, {0x10ff00, 0x10ffff},
	}
	var b strings.Builder
	for range rng.IntN(10) {
		if rng.IntN(4) == 0 {
			b.WriteByte(`'"\`[rng.IntN(3)])
			continue
		}
		pool := pools[rng.IntN(len(pools))]
		r := pool[0] + rng.Int32N(pool[1]-pool[0]+1)
		if utf8.ValidRune(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// FuzzRow checks Row against Python on whatever values the fuzzer makes.
// Its seeds run with every go test; where there is no Python, it still
// checks that the result is one line of valid UTF-8 in parentheses.
// go test -fuzz FuzzRow ./internal/pyrow searches for more.
func FuzzRow(f *testing.F) {
	f.Add("Alice Smith", []byte("x"), int64(30), 41.5)
	f.Add("Finn O'Brien", []byte{}, int64(math.MinInt64), 1e16)
	f.Add("tab\there \\ \"both' quotes", []byte("'\"\x00\xff"), int64(-1), 1e-5)
	f.Add("\x00\x1f\x7f\u00a0\u00ad\u200b\u2028\ue000\U000e0001", []byte("\\\n\r\t"), int64(math.MaxInt64), math.Copysign(0, -1))
	f.Add("Zoë 東京 🙂", []byte(nil), int64(0), 5e-324)
	p := startPython(f)
	f.Fuzz(func(t *testing.T, s string, b []byte, i int64, x float64) {
		if !utf8.ValidString(s) || math.IsNaN(x) {
			t.Skip("Python's sqlite3 cannot read text that is not UTF-8, and SQLite stores NaN as NULL")
		}
		row := pyrow.Row{s, b, i, x}
		got := row.String()
		if !utf8.ValidString(got) || strings.ContainsAny(got, "\n\r") || !strings.HasPrefix(got, "(") || !strings.HasSuffix(got, ")") {
			t.Fatalf("%s is not one line of UTF-8 in parentheses", got)
		}
		if p != nil {
			assertLikePython(t, p, row)
		}
	})
}
