// Package guidelog is the guide's logging set-up in Go's log/slog. Each of
// the guide's programs gives its logger two handlers:
//
//	file_handler = logging.FileHandler('connection.log')
//	file_handler.setFormatter(logging.Formatter('%(asctime)s - %(levelname)s - %(message)s'))
//	logger.addHandler(file_handler)
//	logger.addHandler(logging.StreamHandler())
//
// so the log file gets the dated line, "2025-05-20 01:05:00,123 - INFO -
// Opened connection to users.db", and stderr gets the message alone,
// "Opened connection to users.db": the StreamHandler has no formatter of its
// own, and Python's default one writes only the message. New does the same.
package guidelog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
)

// TimeFormat is Python logging's asctime in Go's layout: "2025-05-20
// 01:05:00,123".
const TimeFormat = "2006-01-02 15:04:05,000"

// New returns the guide's logger: INFO and above, each message written to
// stderr as it is and appended to the file fileName in the current folder
// in the guide's dated format. If the file cannot be opened, New warns once
// on stderr and the logger writes to stderr alone. close closes the file.
// Each line is written to the file at once, so close has nothing left to
// save and returns no error.
func New(stderr io.Writer, fileName string) (logger *slog.Logger, close func()) {
	h := &handler{mu: new(sync.Mutex), stderr: stderr}
	f, err := os.OpenFile(fileName, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(stderr, "warning: logging to stderr only: %v\n", err)
		return slog.New(h), func() {}
	}
	h.file = f
	return slog.New(h), func() { f.Close() }
}

// handler writes each record as two lines: the dated one to file (when
// there is one) and the bare message to stderr, the file first, in the
// order the guide adds its handlers. Attributes, which the guide never
// uses, follow the message as key=value. The mutex lets goroutines share
// one logger and keeps each record's two lines together.
type handler struct {
	mu     *sync.Mutex
	stderr io.Writer
	file   io.Writer
	attrs  string
}

func (h *handler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelInfo
}

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	var msg strings.Builder
	msg.WriteString(r.Message + h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		msg.WriteString(" " + a.String())
		return true
	})
	msg.WriteByte('\n')

	h.mu.Lock()
	defer h.mu.Unlock()
	var err error
	if h.file != nil {
		dated := r.Time.Format(TimeFormat) + " - " + LevelName(r.Level) + " - " + msg.String()
		_, err = io.WriteString(h.file, dated)
	}
	_, werr := io.WriteString(h.stderr, msg.String())
	return errors.Join(err, werr)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	for _, a := range attrs {
		h2.attrs += " " + a.String()
	}
	return &h2
}

func (h *handler) WithGroup(string) slog.Handler { return h }

// LevelName is Python's name for a level: INFO, WARNING, ERROR.
func LevelName(l slog.Level) string {
	if l == slog.LevelWarn {
		return "WARNING"
	}
	return l.String()
}
