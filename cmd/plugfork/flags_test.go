package main

import "flag"

// update regenerates golden files and script outputs (go test -update).
var update = flag.Bool("update", false, "update golden files")
