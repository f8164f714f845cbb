// Package archtest holds no code: its test checks the import rules of the
// tree (README, Architecture) by reading `go list -deps`.
package archtest
