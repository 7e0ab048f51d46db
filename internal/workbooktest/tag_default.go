//go:build !experiments

package workbooktest

// experiments is false in the default build: RunExperiment checks that the
// page shows each experiment but does not run its command, which builds
// the edited lesson and takes seconds each.
const experiments = false
