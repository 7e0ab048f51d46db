package lesson

import (
	"bufio"
	"io"
	"sync"
)

// output is the program's standard output, buffered so that a million rows
// cost a few hundred writes instead of a million. A mutex lets goroutines
// share it.
type output struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func newOutput(w io.Writer) *output {
	return &output{w: bufio.NewWriterSize(w, 64<<10)}
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.w.Write(p)
}

func (o *output) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.w.Flush()
}

// flushFirst is the lesson's stderr: it flushes the rows printed so far
// before each write, so that rows and log lines keep the order they happen
// in when both go to one terminal, as they do in Python, whose print
// writes a terminal's lines at once.
type flushFirst struct {
	out *output
	w   io.Writer
}

func (f *flushFirst) Write(p []byte) (int, error) {
	if err := f.out.Flush(); err != nil {
		return 0, err
	}
	return f.w.Write(p)
}
