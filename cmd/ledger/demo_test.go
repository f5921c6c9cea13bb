package main

import "bytes"

// demoEvents is how many events the demo data set holds: one a row of
// demo.csv after its header.
func demoEvents() int {
	return bytes.Count(bytes.TrimSpace(demoCSV), []byte("\n"))
}
