package workbooktest

import (
	"database/sql"
	"testing"

	"workbook/internal/dbfile"
)

// Each code is the one SQLite gives for its error.
func TestSQLiteCodesAreSQLitesOwn(t *testing.T) {
	path := NewUsersDB(t,
		"CREATE TABLE accounts (owner TEXT PRIMARY KEY, balance INTEGER CHECK (balance >= 0))",
		"CREATE TABLE transfers (payee TEXT REFERENCES accounts (owner))",
		"CREATE TRIGGER refuse BEFORE INSERT ON accounts WHEN NEW.owner = 'Mallory' BEGIN SELECT RAISE(ABORT, 'refused'); END")
	ctx := Context(t)
	open := func(options string) *sql.DB {
		db, err := sql.Open("sqlite3", dbfile.URI(path)+"?"+options)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db := open("_foreign_keys=1&_busy_timeout=0&_txlock=immediate")
	db.SetMaxOpenConns(1)

	_, err := db.ExecContext(ctx, "INSERT INTO accounts VALUES ('Alice', -1)")
	AssertSQLiteCode(t, err, SQLiteConstraintCheck)
	_, err = db.ExecContext(ctx, "INSERT INTO transfers VALUES ('Carol')")
	AssertSQLiteCode(t, err, SQLiteConstraintForeignKey)
	_, err = db.ExecContext(ctx, "INSERT INTO accounts VALUES ('Mallory', 1)")
	AssertSQLiteCode(t, err, SQLiteConstraintTrigger)

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	_, err = open("_busy_timeout=0&_txlock=immediate").BeginTx(ctx, nil)
	AssertSQLiteCode(t, err, SQLiteBusy)
}
