//go:build experiments

package workbooktest

// experiments is true in a build with -tags experiments: RunExperiment runs
// each page experiment's command.
const experiments = true
