// Command crasher hits one fault point and reports whether it survived;
// faultbin's test runs it.
package main

import (
	"fmt"
	"os"

	"github.com/shapesync/shapesync/actors/faults"
)

func main() {
	f, err := faults.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 1; i <= 3; i++ {
		if err := f.Hit("demo.point"); err != nil {
			fmt.Println("hit", i, "error:", err)
			continue
		}
		fmt.Println("hit", i, "ok")
	}
}
