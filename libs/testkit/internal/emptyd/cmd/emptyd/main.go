// Command emptyd runs the emptyd test daemon.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/evcrm/evcrm/libs/testkit/internal/emptyd"
)

func main() {
	if err := emptyd.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "emptyd:", err)
		os.Exit(1)
	}
}
