package statement

// FirstStatementEnd lets the tests, which are package statement_test so
// that they may use the workbook's test helpers, check firstStatement.
var FirstStatementEnd = firstStatement
