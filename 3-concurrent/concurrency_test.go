package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"testing"
	"testing/synctest"

	"workbook/internal/workbooktest"
)

// The tests in this file check how fetchConcurrently runs its two fetches:
// at the same time, the first error cancelling the other, every error
// returned. What matters is the order of events, so the queries go to a
// scripted database, whose answer to each query is a function of the
// test's own: it can wait for the other query, or for its context to end,
// and then give rows or an error. Each test runs in a synctest bubble:
// synctest.Wait returns once every goroutine of the test is blocked, so a
// test sees at once, on any machine, that a fetch is waiting for something
// that will never happen, without a timeout.

// The two queries of the lesson, as the scripted database receives them.
const (
	allUsersQuery   = "SELECT * FROM users"
	olderUsersQuery = "SELECT * FROM users WHERE age > ?"
)

// fetchOf names the fetch that runs each query, as its errors start.
var fetchOf = map[string]string{allUsersQuery: "fetch all users", olderUsersQuery: "fetch users older than 40"}

// scriptedAnswer answers one query: rows of one column, or an error.
type scriptedAnswer func(ctx context.Context, query string) ([]int64, error)

// openScripted opens a pool whose connections answer each query with
// answer, and closes it when the test ends.
func openScripted(t *testing.T, answer scriptedAnswer) *sql.DB {
	t.Helper()
	db := sql.OpenDB(scriptedConnector{answer})
	t.Cleanup(func() { db.Close() })
	return db
}

type scriptedConnector struct{ answer scriptedAnswer }

func (c scriptedConnector) Connect(context.Context) (driver.Conn, error) {
	return scriptedConn(c), nil
}

func (c scriptedConnector) Driver() driver.Driver { return nil }

// scriptedConn is a connection that knows only queries.
type scriptedConn struct{ answer scriptedAnswer }

func (c scriptedConn) QueryContext(ctx context.Context, query string, _ []driver.NamedValue) (driver.Rows, error) {
	ids, err := c.answer(ctx, query)
	if err != nil {
		return nil, err
	}
	return &scriptedRows{ids: ids}, nil
}

func (scriptedConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not scripted") }
func (scriptedConn) Begin() (driver.Tx, error)           { return nil, errors.New("not scripted") }
func (scriptedConn) Close() error                        { return nil }

// scriptedRows are rows of one column, id.
type scriptedRows struct{ ids []int64 }

func (r *scriptedRows) Columns() []string { return []string{"id"} }
func (r *scriptedRows) Close() error      { return nil }
func (r *scriptedRows) Next(dest []driver.Value) error {
	if len(r.ids) == 0 {
		return io.EOF
	}
	dest[0], r.ids = r.ids[0], r.ids[1:]
	return nil
}

// fetchResult is what fetchConcurrently returned.
type fetchResult struct {
	all, older []string
	err        error
}

// resultOnceAllBlocked calls fetchConcurrently on a goroutine of its own,
// inside the test's synctest bubble, and waits until every goroutine of the
// test is blocked. It returns fetchConcurrently's result and true if it has
// returned by then. If it is still waiting then, it waits for something
// that will never happen: resultOnceAllBlocked cancels its context to end
// the test, and returns false.
func resultOnceAllBlocked(t *testing.T, db *sql.DB) (fetchResult, bool) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	result := startFetchConcurrently(ctx, db)
	synctest.Wait()
	select {
	case r := <-result:
		return r, true
	default:
		stop()
		<-result
		return fetchResult{}, false
	}
}

// startFetchConcurrently calls fetchConcurrently on a goroutine of its own
// and returns the channel its result comes on.
func startFetchConcurrently(ctx context.Context, db *sql.DB) <-chan fetchResult {
	result := make(chan fetchResult, 1)
	go func() {
		all, older, err := fetchConcurrently(ctx, db, workbooktest.Discard())
		r := fetchResult{err: err}
		for _, row := range all {
			r.all = append(r.all, row.String())
		}
		for _, row := range older {
			r.older = append(r.older, row.String())
		}
		result <- r
	}()
	return result
}

// Each query waits until the other one has started: run one after the
// other, the first would wait for ever.
func TestFetchesRunAtTheSameTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		started := map[string]chan struct{}{allUsersQuery: make(chan struct{}), olderUsersQuery: make(chan struct{})}
		db := openScripted(t, func(ctx context.Context, query string) ([]int64, error) {
			close(started[query])
			other := started[olderUsersQuery]
			if query == olderUsersQuery {
				other = started[allUsersQuery]
			}
			select {
			case <-other:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if query == allUsersQuery {
				return []int64{1, 2, 3}, nil
			}
			return []int64{2}, nil
		})
		r, ok := resultOnceAllBlocked(t, db)
		if !ok {
			t.Fatal("one fetch waits for the other to start, which never happens: the fetches ran one after the other")
		}
		if r.err != nil {
			t.Fatalf("fetchConcurrently: %v", r.err)
		}
		if len(r.all) != 3 || len(r.older) != 1 {
			t.Errorf("fetchConcurrently returned %d and %d users, want 3 and 1", len(r.all), len(r.older))
		}
	})
}

// One fetch fails at once; the other waits for its context to end, as a
// long query does, and only a cancel can stop it. Each fetch fails in turn.
func TestTheFirstErrorCancelsTheOtherFetch(t *testing.T) {
	for _, failing := range []string{allUsersQuery, olderUsersQuery} {
		fetch := fetchOf[failing]
		t.Run(fetch, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				failure := errors.New("disk I/O error")
				db := openScripted(t, func(ctx context.Context, query string) ([]int64, error) {
					if query == failing {
						return nil, failure
					}
					<-ctx.Done()
					return nil, ctx.Err()
				})
				r, ok := resultOnceAllBlocked(t, db)
				if !ok {
					t.Fatalf("%s failed, and the other fetch still runs: nothing cancelled it", fetch)
				}
				if want := fetch + ": " + failure.Error(); r.err == nil || r.err.Error() != want {
					t.Errorf("error = %v, want the failing fetch's own, %q", r.err, want)
				}
				if r.all != nil || r.older != nil {
					t.Errorf("results %q and %q came back with the error", r.all, r.older)
				}
			})
		})
	}
}

// A fetch that fails after the other has succeeded has nothing left to
// cancel: its error is easily lost. Each fetch fails that way in turn.
func TestEachFetchsErrorIsReturned(t *testing.T) {
	for _, failing := range []string{allUsersQuery, olderUsersQuery} {
		fetch := fetchOf[failing]
		t.Run(fetch, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				succeeded := make(chan struct{})
				failure := errors.New("disk I/O error")
				db := openScripted(t, func(ctx context.Context, query string) ([]int64, error) {
					if query != failing {
						close(succeeded)
						return []int64{2}, nil
					}
					<-succeeded
					// Until the other fetch has its rows and has
					// returned, it cannot be cancelled any more.
					synctest.Wait()
					return nil, failure
				})
				r := <-startFetchConcurrently(context.Background(), db)
				if r.err == nil {
					t.Fatalf("fetchConcurrently returned %d and %d users and no error; want the error of %s", len(r.all), len(r.older), fetch)
				}
				if want := fetch + ": " + failure.Error(); r.err.Error() != want {
					t.Errorf("error = %q, want %q", r.err, want)
				}
			})
		})
	}
}
