//go:build cgo

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// gatherPy is the guide's Task 2 in Python, cut to what it prints: the two
// queries through aiosqlite, run at once with asyncio.gather, and each row
// printed as print(row) prints it.
const gatherPy = `
import asyncio, sys
import aiosqlite

async def rows_of(path, query, *params):
    async with aiosqlite.connect(path) as conn:
        async with conn.execute(query, params) as cursor:
            return await cursor.fetchall()

async def both(path):
    return await asyncio.gather(
        rows_of(path, "SELECT * FROM users"),
        rows_of(path, "SELECT * FROM users WHERE age > ?", 40))

everyone, over_40 = asyncio.run(both(sys.argv[1]))
print("All users:")
for row in everyone:
    print(row)
print("\nUsers older than 40:")
for row in over_40:
    print(row)
`

// pythonWithAiosqlite finds a Python 3 that can import aiosqlite: the one
// on PATH, or the system's, where Debian's python3-aiosqlite installs it.
func pythonWithAiosqlite(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append([]string{p}, candidates...)
	}
	for _, p := range candidates {
		if exec.Command(p, "-c", "import aiosqlite").Run() == nil {
			return p
		}
	}
	t.Skip("no python3 with aiosqlite (Debian: apt-get install python3-aiosqlite)")
	return ""
}

// TestPythonPrintsTheSame checks that the guide's way in Python prints,
// byte for byte, what the lesson prints for each table of
// TestRunPrintsTablesOfEveryShape.
func TestPythonPrintsTheSame(t *testing.T) {
	python := pythonWithAiosqlite(t)
	for _, tt := range tables {
		t.Run(tt.name, func(t *testing.T) {
			path := newUsersDB(t, tt.setup...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, python, "-c", gatherPy, path)
			cmd.Env = append(os.Environ(), "PYTHONIOENCODING=utf-8")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("python: %v\n%s", err, stderr.String())
			}
			if stdout.String() != tt.want {
				t.Errorf("Python prints:\n%s\nthe test expects:\n%s", stdout.String(), tt.want)
			}
		})
	}
}
