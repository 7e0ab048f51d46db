package everylesson

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"workbook/internal/workbooktest"
)

// A users table a learner's Python might have made, and what each core
// lesson must do with it: print what Python prints, or fail where Python
// fails with one line that names the cause.
type usersTable struct {
	name  string
	setup []string
	// fails are the core lessons that must fail, with the line's text.
	fails map[string]string
}

var learnersTables = []usersTable{
	{name: "the guide's", setup: workbooktest.GuideUsers},
	{name: "extra columns", setup: []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE, age INTEGER, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, is_active BOOLEAN DEFAULT 1, password_hash TEXT)`,
		`INSERT INTO users (name, email, age, created_at, is_active, password_hash) VALUES
		('Alice Smith', 'alice@example.com', 30, '2025-07-07 10:58:59', 1, 'pbkdf2:sha256$x'),
		('Finn O''Brien', 'finn@example.com', 52, 'not a date', 0, NULL),
		('Zoë Ng', NULL, 41, 1751885939, 2, x'00ff')`}},
	{name: "a text key and another order", setup: []string{
		`CREATE TABLE users (user_id TEXT PRIMARY KEY, age INTEGER, email TEXT, name TEXT)`,
		`INSERT INTO users VALUES ('u-1', 44, 'a@example.com', 'Tab	Name'), ('u-2', NULL, 'b@example.com', 'Back\slash "quoted"'), ('u-3', 61, NULL, 'both '' and "')`}},
	{name: "NULLs and no UNIQUE", setup: []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, email TEXT, age INTEGER)`,
		`INSERT INTO users (name, email, age) VALUES ('Alice Smith', 'alice.smith@example.com', 30), ('Alice Smith', 'alice.smith@example.com', 30), (NULL, NULL, NULL), ('Bob', 'bob@example.com', 45)`}},
	{name: "ages as REAL, DATE and DATETIME columns", setup: []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age REAL, born DATE, updated DATETIME)`,
		`INSERT INTO users VALUES (1, 'Ann', 41.5, '1984-02-29', '2025-01-01T00:00:00Z'), (2, 'Ben', 50.0, 19840229, 1.5), (3, 'Cy', 1e16, NULL, 'yesterday'), (9223372036854775807, 'Max', -0.0, 'x', -1)`}},
	{name: "one column", setup: []string{
		`CREATE TABLE users (age INTEGER)`, `INSERT INTO users VALUES (25), (41), (NULL)`}},
	{name: "no rows", setup: []string{workbooktest.GuideUsers[0]}},
	{name: "no age column", setup: []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)`,
		`INSERT INTO users (name, email) VALUES ('Alice Smith', 'alice.smith@example.com')`},
		fails: map[string]string{
			"1-execute":    "has no age column: its columns are id, name, email",
			"3-concurrent": "has no age column: its columns are id, name, email",
		}},
	{name: "no users table", setup: []string{`CREATE TABLE customers (id INTEGER)`},
		fails: map[string]string{
			"0-databaseconnection": "has no users table: its tables are customers",
			"1-execute":            "has no users table: its tables are customers",
			"3-concurrent":         "has no users table: its tables are customers",
		}},
	{name: "an empty file", setup: nil,
		fails: map[string]string{
			"0-databaseconnection": "is an empty file with no tables",
			"1-execute":            "is an empty file with no tables",
			"3-concurrent":         "is an empty file with no tables",
		}},
}

// pythonLogging sets up a logger as each of the guide's programs does: the
// dated line goes to the log file, and the bare message to stderr, since
// the StreamHandler has no formatter of its own.
func pythonLogging(logFile string) string {
	return `import logging
logger = logging.getLogger("guide")
logger.setLevel(logging.INFO)
to_file = logging.FileHandler("` + logFile + `")
to_file.setFormatter(logging.Formatter("%(asctime)s - %(levelname)s - %(message)s"))
logger.addHandler(to_file)
logger.addHandler(logging.StreamHandler())
`
}

// pythonLessons are the guide's three tasks in a few lines of Python each,
// doing what the guide's programs do when they succeed: the same rows on
// stdout, the same messages logged at the same moments. Where the guide's
// program would print "Database error: ...", these let the exception end
// the program with a status that is not 0, which the test tells apart.
var pythonLessons = map[string]string{
	"0-databaseconnection": pythonLogging("connection.log") + `import sqlite3, sys
path = sys.argv[1]
conn = sqlite3.connect(path)
logger.info(f"Opened connection to {path}")
try:
    for row in conn.execute("SELECT * FROM users").fetchall():
        print(row)
finally:
    conn.close()
    logger.info(f"Closed connection to {path}")
`,
	"1-execute": pythonLogging("query.log") + `import sqlite3, sys
path = sys.argv[1]
query, params = "SELECT * FROM users WHERE age > ?", (25,)
conn = sqlite3.connect(path)
rows = conn.execute(query, params).fetchall()
logger.info(f"Executed query: {query} with params: {params}")
try:
    for row in rows:
        print(row)
finally:
    conn.close()
    logger.info(f"Closed connection to {path}")
`,
	"3-concurrent": pythonLogging("async.log") + `import asyncio, os, sys, traceback
import aiosqlite
async def fetch(query, params, done):
    async with aiosqlite.connect(sys.argv[1]) as conn:
        cursor = await conn.execute(query, params)
        rows = await cursor.fetchall()
        logger.info(done)
        return rows
async def both():
    return await asyncio.gather(
        fetch("SELECT * FROM users", (), "Fetched all users"),
        fetch("SELECT * FROM users WHERE age > ?", (40,), "Fetched users older than 40"))
try:
    everyone, older = asyncio.run(both())
except Exception:
    # When both fetches fail, aiosqlite 0.17 now and then leaves the
    # second one's connection thread running, and Python waits for it
    # forever after the traceback: leave without waiting.
    traceback.print_exc()
    sys.stderr.flush()
    os._exit(1)
print("All users:")
for row in everyone:
    print(row)
print("\nUsers older than 40:")
for row in older:
    print(row)
`,
}

// pythonModule is the module each lesson's Python needs beyond logging.
var pythonModule = map[string]string{
	"0-databaseconnection": "sqlite3",
	"1-execute":            "sqlite3",
	"3-concurrent":         "aiosqlite",
}

// inAnyOrder sorts the lines of 3-concurrent's log, whose two fetches may
// finish in either order, in Python as in Go; the other lessons' lines
// stay as they are.
func inAnyOrder(lesson string, lines []string) []string {
	if lesson == "3-concurrent" {
		lines = slices.Sorted(slices.Values(lines))
	}
	return lines
}

func TestCoreLessonsPrintAndLogWhatPythonDoesOnLearnersTables(t *testing.T) {
	bin := programs(t)
	for _, table := range learnersTables {
		t.Run(table.name, func(t *testing.T) {
			t.Parallel() // each table has its own file and folders
			path := workbooktest.NewUsersDB(t, table.setup...)
			if table.setup == nil {
				// An empty file, as Python's sqlite3.connect leaves behind.
				if err := os.WriteFile(path, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, lesson := range core {
				t.Run(lesson, func(t *testing.T) {
					before, _ := os.ReadFile(path)
					dir := t.TempDir()
					stdout, stderr, status := workbooktest.RunProgram(t, dir, workbooktest.Program(bin, lesson), "-db", path)
					workbooktest.AssertNoStackTrace(t, stderr)
					if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
						t.Error("the lesson changed the database")
					}
					failure := table.fails[lesson]
					python := workbooktest.PythonWith(t, pythonModule[lesson])
					var py struct {
						stdout, stderr string
						status         int
						dir            string
					}
					if python != "" {
						py.dir = t.TempDir()
						py.stdout, py.stderr, py.status = workbooktest.RunPython(t, python, py.dir, pythonLessons[lesson], path)
						if (py.status != 0) != (failure != "") {
							t.Fatalf("Python's exit status %d does not fit the test's expectation %q\n%s", py.status, failure, py.stderr)
						}
					}
					if failure != "" {
						if line := workbooktest.LastLine(stderr); status != 1 || !strings.Contains(line, failure) || !strings.Contains(line, "go run ./00-setup -db guide.db") {
							t.Errorf("exit status %d, last line %q; want 1 and a line naming %q and the fix", status, line, failure)
						}
						return
					}
					if status != 0 {
						t.Fatalf("exit status %d\nstderr: %s", status, stderr)
					}
					if python == "" {
						return
					}
					if stdout != py.stdout {
						t.Errorf("the lesson prints\n%s\nPython prints\n%s", stdout, py.stdout)
					}
					// stderr byte for byte, each line with its newline.
					got, want := strings.SplitAfter(stderr, "\n"), strings.SplitAfter(py.stderr, "\n")
					if !slices.Equal(inAnyOrder(lesson, got), inAnyOrder(lesson, want)) {
						t.Errorf("the lesson's stderr is\n%q\nPython's is\n%q", stderr, py.stderr)
					}
					// The log files' lines, once the time is set aside.
					gotLog := workbooktest.ReadLogFile(t, filepath.Join(dir, logFile[lesson]))
					wantLog := workbooktest.ReadLogFile(t, filepath.Join(py.dir, logFile[lesson]))
					if !slices.Equal(inAnyOrder(lesson, gotLog), inAnyOrder(lesson, wantLog)) {
						t.Errorf("the lesson's %s has\n%s\nPython's has\n%s", logFile[lesson], strings.Join(gotLog, "\n"), strings.Join(wantLog, "\n"))
					}
				})
			}
		})
	}
}
