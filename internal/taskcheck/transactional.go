package taskcheck

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"workbook/internal/dbfile"
	"workbook/internal/workbooktest"
)

// transactionalOutput is what the lesson prints on the guide's users.db:
// the accounts, then each payment's outcome and the accounts after it.
const transactionalOutput = `('Alice', 100)
('Bob', 50)
Alice pays Bob 30: committed
('Alice', 70)
('Bob', 80)
Bob pays Alice 500: rolled back: CHECK constraint failed: balance >= 0
('Alice', 70)
('Bob', 80)
Alice pays Carol 10: rolled back: FOREIGN KEY constraint failed
('Alice', 70)
('Bob', 80)
`

// transactionalLog is what the lesson logs on the guide's users.db at
// path, each line's "LEVEL - message"; stderr shows the messages alone.
func transactionalLog(path string) []string {
	return []string{
		"INFO - Opened connection to " + path,
		"INFO - Transaction committed",
		"INFO - Transaction committed",
		"ERROR - Transaction rolled back: CHECK constraint failed: balance >= 0",
		"ERROR - Transaction rolled back: FOREIGN KEY constraint failed",
		"INFO - Closed connection to " + path,
	}
}

// demoTables are the lesson's two tables, made as it makes them, holding
// what one run of the lesson leaves in them.
var demoTables = append(workbooktest.GuideUsers[:2:2],
	"CREATE TABLE demo_accounts (owner TEXT PRIMARY KEY, balance INTEGER NOT NULL CHECK (balance >= 0))",
	`CREATE TABLE demo_transfers (amount INTEGER NOT NULL,
    payer TEXT NOT NULL REFERENCES demo_accounts (owner) DEFERRABLE INITIALLY DEFERRED,
    payee TEXT NOT NULL REFERENCES demo_accounts (owner) DEFERRABLE INITIALLY DEFERRED)`,
	"INSERT INTO demo_accounts (owner, balance) VALUES ('Alice', 70), ('Bob', 80)",
	"INSERT INTO demo_transfers (amount, payer, payee) VALUES (30, 'Alice', 'Bob')")

// closedToNewAccounts are the demo's tables after a run, with a trigger
// that refuses every new account: the reset deletes both tables' rows, and
// then its INSERT fails, so only a rollback gives the rows back.
var closedToNewAccounts = append(demoTables[:len(demoTables):len(demoTables)],
	"CREATE TRIGGER new_accounts_are_closed BEFORE INSERT ON demo_accounts BEGIN SELECT RAISE(ABORT, 'new accounts are closed'); END")

// The rows that one run of the lesson leaves in its tables, as Python
// prints them.
const (
	accountsAfterARun  = "('Alice', 70)\n('Bob', 80)\n"
	transfersAfterARun = "(30, 'Alice', 'Bob')\n"
)

// TransactionalConnection are the checks of the guide's section 4.1.5,
// extras/transactional-connection: each payment one transaction, committed
// when it works and rolled back when any step of it fails, COMMIT included.
var TransactionalConnection = []Check{
	{"prints the accounts and each payment's outcome as the lesson does", func(t *testing.T, p Program) string {
		r, _, problem := runOnGuideUsers(t, p)
		if problem != "" {
			return problem
		}
		if r.Status != 0 || r.Stdout != transactionalOutput {
			return p.Mentor(
				"On the guide's users.db your program ended with status "+strconv.Itoa(r.Status)+" and printed:\n"+indent(r.Stdout)+"\nand on stderr:\n"+indent(r.Stderr)+"\nThe lesson prints:\n"+indent(transactionalOutput),
				"Each payment is one transaction, all or nothing: Alice's 30 to Bob is committed; Bob's 500 is refused by the CHECK on the balance, and the rollback takes back the credit to Alice; Alice's 10 to Carol is refused at COMMIT, because Carol has no account and _foreign_keys=1 has SQLite check, and Commit's error says so. The accounts printed after each payment show what was really saved.",
				"Run it")
		}
		return ""
	}},
	{"logs each transaction's outcome as the guide's __exit__ does", func(t *testing.T, p Program) string {
		r, path, problem := runOnGuideUsers(t, p)
		if problem != "" {
			return problem
		}
		wantLog := transactionalLog(path)
		wantStderr := strings.Join(bareMessages(wantLog), "\n") + "\n"
		if r.Stderr != wantStderr || !slices.Equal(r.Log, wantLog) {
			return p.Mentor(
				"Your program wrote on stderr:\n"+indent(r.Stderr)+"\nand in connection.log (without the times):\n"+indent(strings.Join(r.Log, "\n"))+"\nThe lesson writes on stderr:\n"+indent(wantStderr)+"\nand in connection.log:\n"+indent(strings.Join(wantLog, "\n")),
				"withTransaction logs what __exit__ logs: \"Transaction committed\" (INFO) once Commit has worked, and \"Transaction rolled back: \" and the error (ERROR) when fn or Commit fails. The first \"Transaction committed\" is the reset of the demo's tables.",
				"Run it")
		}
		return ""
	}},
	{"saves a committed payment in the file", func(t *testing.T, p Program) string {
		r, path, problem := runOnGuideUsers(t, p)
		if problem != "" {
			return problem
		}
		did := "On the guide's users.db your program ended with status " + strconv.Itoa(r.Status)
		why := "Only Commit saves what the transaction wrote; the deferred Rollback, which runs on every way out, takes back anything not committed. After the run, the file must hold the reset accounts and Alice's payment to Bob, and nothing else."
		if journal := leftJournal(path); journal != "" {
			return p.Mentor(did+", and left "+journal+" behind: it ended inside a transaction.", why, "The Go idea")
		}
		accounts, transfers, found := demoRows(t, path)
		if !found {
			return p.Mentor(did+", and after it the file has no demo_accounts and demo_transfers tables: the reset that makes them was not committed.", why, "The Go idea")
		}
		if accounts != accountsAfterARun || transfers != transfersAfterARun {
			return p.Mentor(
				did+". Afterwards the file holds in demo_accounts:\n"+indent(accounts)+"\nand in demo_transfers:\n"+indent(transfers)+"\nThe lesson leaves in demo_accounts:\n"+indent(accountsAfterARun)+"\nand in demo_transfers:\n"+indent(transfersAfterARun),
				why, "The Go idea")
		}
		wantUsers := strings.Join(guideRows, "\n") + "\n"
		if users := workbooktest.TableRows(t, path, "users"); users != wantUsers {
			return p.Mentor(did+". Afterwards the users table holds:\n"+indent(users)+"\nThe lesson leaves it as it was:\n"+indent(wantUsers), why, "The Go idea")
		}
		return ""
	}},
	{"rolls back everything a failing step wrote", func(t *testing.T, p Program) string {
		if _, _, problem := runOnGuideUsers(t, p); problem != "" {
			return problem
		}
		refused := refusedReset(t, p)
		r := refused.Result
		did := "On a users.db whose demo tables already hold a run's rows, and which refuses new accounts (a trigger), the reset deletes both tables' rows and then fails at its INSERT. Your program ended with status " + strconv.Itoa(r.Status) + " and wrote on stderr:\n" + indent(r.Stderr)
		why := "`defer tx.Rollback()`, on the line after BeginTx's error check, rolls back on every way out but Commit: it takes back everything fn wrote before the step that failed. withTransaction logs \"Transaction rolled back: \" and fn's error, and returns that error unchanged."
		if refused.journal != "" {
			return p.Mentor(did+"\nIt left "+refused.journal+" behind: it ended inside a transaction it never rolled back.", why, "The Go idea")
		}
		if r.Status == 0 || !strings.Contains(r.Stderr, "Transaction rolled back: new accounts are closed\n") {
			return p.Mentor(did+"\nThe lesson logs \"Transaction rolled back: new accounts are closed\" and ends with that error, status 1.", why, "The Go idea")
		}
		accounts, transfers, _ := demoRows(t, refused.path)
		if accounts != accountsAfterARun || transfers != transfersAfterARun {
			return p.Mentor(
				did+"\nAfterwards the file holds in demo_accounts:\n"+indent(accounts)+"\nand in demo_transfers:\n"+indent(transfers)+"\nThe rollback leaves them as they were: in demo_accounts:\n"+indent(accountsAfterARun)+"\nand in demo_transfers:\n"+indent(transfersAfterARun),
				why, "The Go idea")
		}
		return ""
	}},
	{"reports a failed COMMIT as rolled back (Commit's error)", func(t *testing.T, p Program) string {
		r, path, problem := runOnGuideUsers(t, p)
		if problem != "" {
			return problem
		}
		accounts, transfers, found := demoRows(t, path)
		if found && strings.Contains(transfers, "'Carol'") {
			return p.Mentor(
				"On the guide's users.db your program saved Alice's payment to Carol, who has no account. Afterwards the file holds in demo_accounts:\n"+indent(accounts)+"\nand in demo_transfers:\n"+indent(transfers),
				"SQLite checks foreign keys only on a connection that asks: _foreign_keys=1 in the DSN asks on every connection the pool opens. Then the transfers table's foreign key, DEFERRABLE INITIALLY DEFERRED, refuses the payment at COMMIT.",
				"The Go idea")
		}
		const refusedAtCommit = "Alice pays Carol 10: rolled back: FOREIGN KEY constraint failed\n"
		committed := strings.Count(r.Stderr, "Transaction committed\n")
		if !strings.Contains(r.Stdout, refusedAtCommit) || committed != 2 || !strings.Contains(r.Stderr, "Transaction rolled back: FOREIGN KEY constraint failed\n") {
			return p.Mentor(
				"On the guide's users.db, Alice's payment to Carol is refused at COMMIT: Carol has no account. Your program printed:\n"+indent(r.Stdout)+"\nand logged \"Transaction committed\" "+strconv.Itoa(committed)+" times (the lesson, twice: the reset and Alice's payment to Bob), on stderr:\n"+indent(r.Stderr)+"\nThe lesson prints:\n"+indent(refusedAtCommit)+"\nand logs \"Transaction rolled back: FOREIGN KEY constraint failed\".",
				"COMMIT can fail: SQLite checks a deferred foreign key only then, and a full disk shows there too. When tx.Commit() returns an error, the driver has rolled back and nothing was saved, so withTransaction logs \"Transaction rolled back: \" and returns the error; it logs \"Transaction committed\" only after a Commit that worked.",
				"Where Go differs from the Python, and why")
		}
		return ""
	}},
	{"takes the write lock as the transaction begins (_txlock=immediate)", func(t *testing.T, p Program) string {
		path := workbooktest.NewUsersDB(t, demoTables...)
		// Another program holds the write lock for as long as this one runs:
		// it began a transaction that takes the lock at once.
		writer := workbooktest.OpenDSN(t, dbfile.URI(path)+"?mode=rw&_txlock=immediate")
		tx, err := writer.BeginTx(workbooktest.Context(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		r := p.Run(t, "connection.log", "-db", path)
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if r.Status == 0 || strings.Contains(r.Stderr, "Transaction rolled back") || !strings.Contains(r.Stderr, "database is locked") {
			return p.Mentor(
				"While another program held users.db's write lock, your program ended with status "+strconv.Itoa(r.Status)+" and wrote on stderr:\n"+indent(r.Stderr)+"\nThe lesson's BeginTx waits the busy timeout (5 s) for the lock and fails with \"database is locked\": its transaction never begins, fn never runs, and nothing says \"Transaction rolled back\".",
				"With _txlock=immediate in the DSN, BeginTx runs BEGIN IMMEDIATE, which takes the write lock at once, waiting for it as the busy timeout allows: a transaction that has begun holds it until it ends, so no other program writes between its read and its write. A plain BEGIN takes it only at the first write, in the middle of fn; a transaction that has read something by then cannot wait for the lock, and fails at once, halfway through fn.",
				"The Go idea")
		}
		return ""
	}},
	{"runs a second time the same as the first", func(t *testing.T, p Program) string {
		path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
		dir := t.TempDir()
		first, problem := runWatched(t, p, dir, path)
		if problem != "" {
			return problem
		}
		second, problem := runWatched(t, p, dir, path)
		if problem != "" {
			return problem
		}
		wantLog := slices.Concat(transactionalLog(path), transactionalLog(path))
		if first.Status != 0 || second.Status != 0 || first.Stdout != transactionalOutput || second.Stdout != transactionalOutput || !slices.Equal(second.Log, wantLog) {
			return p.Mentor(
				"Run twice on the same users.db, your program ended with status "+strconv.Itoa(first.Status)+", then "+strconv.Itoa(second.Status)+". The first run printed:\n"+indent(first.Stdout)+"\nthe second:\n"+indent(second.Stdout)+"\nand connection.log holds (without the times):\n"+indent(strings.Join(second.Log, "\n"))+"\nThe lesson prints the same both times, and connection.log keeps both runs' lines, the second's after the first's.",
				"The reset, a transaction of its own, makes the demo's tables if they are missing and gives Alice 100 and Bob 50 again: every run starts from the same accounts, and never touches the users table.",
				"The Go idea")
		}
		return ""
	}},
}

// runOnGuideUsers runs the program on the guide's users.db, watched, and
// returns what it did and the database's path, or, if it left a
// transaction open, a mentor's answer about that.
func runOnGuideUsers(t *testing.T, p Program) (r Result, path, problem string) {
	t.Helper()
	path = workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	r, problem = runWatched(t, p, t.TempDir(), path)
	return r, path, problem
}

// runWatched runs the program on the database at path, in dir, as Run
// does. After each line the program writes on stderr, another connection
// takes the write lock and gives it back at once, waiting for it as long as
// the lesson's busy timeout lets another program wait (5 s). A program that
// keeps the lock longer has left a transaction open: on the guide's
// users.db it would then wait forever for the pool's one connection, which
// that transaction holds. It is interrupted, as Ctrl-C would, and problem
// says what happened.
func runWatched(t *testing.T, p Program, dir, path string) (r Result, problem string) {
	t.Helper()
	ctx := workbooktest.Context(t)
	other := workbooktest.OpenDSN(t, dbfile.URI(path)+"?mode=rw&_busy_timeout=5000&_txlock=immediate")
	cmd := exec.CommandContext(ctx, p.Path, "-db", path)
	cmd.Dir = dir
	var stdout, stderr strings.Builder
	cmd.Stdout = &stdout
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// locked is why the other connection could not take the write lock.
	var locked error
	lines := bufio.NewScanner(pipe)
	for lines.Scan() {
		stderr.WriteString(lines.Text() + "\n")
		if locked != nil {
			continue
		}
		tx, err := other.BeginTx(ctx, nil)
		if err == nil {
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		locked = err
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	var exitErr *exec.ExitError
	switch err := cmd.Wait(); {
	case ctx.Err() != nil:
		t.Fatalf("%s was still running when the test's time ran out: a hang, or a very slow machine\nstderr: %s", filepath.Base(p.Path), stderr.String())
	case errors.As(err, &exitErr):
		r.Status = exitErr.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	r.Stdout, r.Stderr, r.Dir = stdout.String(), stderr.String(), dir
	if b, err := os.ReadFile(filepath.Join(dir, "connection.log")); err == nil {
		r.Log = workbooktest.LogFileMessages(t, string(b))
	}
	if locked != nil {
		problem = p.Mentor(
			"On the guide's users.db your program kept a transaction open: another connection, waiting 5 s for the write lock (the busy timeout the lesson grants other programs), could not take it ("+locked.Error()+"). Your program was waiting for the pool's one connection, which that transaction holds, and would have waited forever, so the checker pressed Ctrl-C for you. It printed:\n"+indent(r.Stdout)+"\nand wrote on stderr:\n"+indent(r.Stderr),
			"`defer tx.Rollback()`, on the line after BeginTx's error check, rolls back on every way out but Commit: it frees the write lock and gives the connection back. Without it, Bob's refused payment keeps its transaction open, and the printAccounts after it waits for that connection until Ctrl-C.",
			"The Go idea")
	}
	return r, problem
}

// A refusal is a run of the program on a database that refuses the reset
// of the demo's accounts.
type refusal struct {
	Result
	path    string
	journal string // the rollback journal left behind, or ""
}

// refusedReset runs the program on closedToNewAccounts.
func refusedReset(t *testing.T, p Program) refusal {
	t.Helper()
	path := workbooktest.NewUsersDB(t, closedToNewAccounts...)
	r := p.Run(t, "connection.log", "-db", path)
	return refusal{Result: r, path: path, journal: leftJournal(path)}
}

// leftJournal returns the name of the rollback journal left beside the
// database at path, or "". SQLite deletes it when a transaction ends; a
// program that ends inside one leaves it, and the next connection to open
// the file rolls that transaction back.
func leftJournal(path string) string {
	journal := path + "-journal"
	if _, err := os.Stat(journal); err != nil {
		return ""
	}
	return filepath.Base(journal)
}

// demoRows reads the demo's two tables in the database at path, as Python
// prints their rows; found is false if they are missing.
func demoRows(t *testing.T, path string) (accounts, transfers string, found bool) {
	t.Helper()
	db := workbooktest.OpenReadOnly(t, path)
	var tables int
	err := db.QueryRowContext(workbooktest.Context(t),
		"SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('demo_accounts', 'demo_transfers')").Scan(&tables)
	if err != nil {
		t.Fatal(err)
	}
	if tables != 2 {
		return "", "", false
	}
	return workbooktest.TableRows(t, path, "demo_accounts"), workbooktest.TableRows(t, path, "demo_transfers"), true
}

// bareMessages is each line of log without its "LEVEL - " part: what stderr
// shows.
func bareMessages(log []string) []string {
	var bare []string
	for _, line := range log {
		_, message, _ := strings.Cut(line, " - ")
		bare = append(bare, message)
	}
	return bare
}
