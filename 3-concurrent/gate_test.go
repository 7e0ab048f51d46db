//go:build cgo

package main

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

// The fetch that fails is the one whose error is dropped most easily: the
// one that fails after the other has already succeeded, so that there is
// nothing left to cancel. TestEachFetchsErrorIsReturned makes each fetch
// fail in turn that way.
//
// The users view gives each row's name through named(id, name), an SQL
// function of the test's own. The fetch of all users asks for names 1 and
// 2 in turn; the fetch of the older users asks only for name 2. So each
// call tells which fetch asks. For the failing fetch, named waits until the
// other fetch has logged its success, then returns text that is not UTF-8,
// which makes that fetch fail.
func TestEachFetchsErrorIsReturned(t *testing.T) {
	for _, tt := range []struct {
		failing     string
		otherLogged string
	}{
		{"fetch all users", "Fetched users older than 40"},
		{"fetch users older than 40", "Fetched all users"},
	} {
		t.Run(tt.failing, func(t *testing.T) {
			path := newUsersDB(t,
				`CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)`,
				`INSERT INTO people VALUES (1, 'Ann', 20), (2, 'Bob', 45)`,
				`CREATE VIEW users AS SELECT id, named(id, name) AS name, age FROM people`)
			logged := &closeOnLog{message: tt.otherLogged, seen: make(chan struct{})}
			db := openGated(t, path, func() func(int64, string) (string, error) {
				var prev int64 // the id asked for before, on this connection
				return func(id int64, name string) (string, error) {
					// Only the fetch of all users asks for 1, and
					// right before 2 on the same connection.
					fetch := "fetch users older than 40"
					if id == 1 || prev == 1 {
						fetch = "fetch all users"
					}
					prev = id
					if fetch != tt.failing {
						return name, nil
					}
					select {
					case <-logged.seen:
						return "\xff", nil
					case <-time.After(10 * time.Second):
						return "", errors.New("the other fetch did not succeed within 10 s")
					}
				}
			})
			all, older, err := fetchConcurrently(context.Background(), db, slog.New(logged))
			if err == nil {
				t.Fatalf("fetchConcurrently returned %d and %d users and no error; want the error of %s", len(all), len(older), tt.failing)
			}
			if want := tt.failing + ": column name holds text that is not UTF-8"; !strings.Contains(err.Error(), want) {
				t.Errorf("error = %q, want %q", err, want)
			}
		})
	}
}

var registerGated sync.Once

// gatedFuncs makes each new connection's named function, for the driver
// "sqlite3_gated": the driver's name is fixed once, the functions change
// with each test.
var gatedFuncs struct {
	sync.Mutex
	make func() func(int64, string) (string, error)
}

// openGated opens path as the lesson does, with a driver whose connections
// each get a named function made by newNamed.
func openGated(t *testing.T, path string, newNamed func() func(int64, string) (string, error)) *sql.DB {
	t.Helper()
	registerGated.Do(func() {
		sql.Register("sqlite3_gated", &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
			gatedFuncs.Lock()
			defer gatedFuncs.Unlock()
			return c.RegisterFunc("named", gatedFuncs.make(), false)
		}})
	})
	gatedFuncs.Lock()
	gatedFuncs.make = newNamed
	gatedFuncs.Unlock()
	db, err := sql.Open("sqlite3_gated", fileURI(path)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		assertNothingOpen(t, db)
	})
	return db
}

// closeOnLog is a slog.Handler that closes seen when message is logged.
type closeOnLog struct {
	message string
	seen    chan struct{}
	once    sync.Once
}

func (h *closeOnLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *closeOnLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.message {
		h.once.Do(func() { close(h.seen) })
	}
	return nil
}
func (h *closeOnLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *closeOnLog) WithGroup(string) slog.Handler      { return h }
