// Command cleantestdb drops the test databases (internal/testdb) nobody is
// connected to, from the server TEST_DATABASE_URL or DATABASE_URL names,
// else 127.0.0.1:5432: what make clean-testdb runs, and make test when its
// tests end. With --template it drops the migrated template too, which the
// next test run then builds again.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
)

func main() {
	template := flag.Bool("template", false, "drop the migrated template database too")
	flag.Parse()
	server := "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	for _, name := range []string{"TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(name); v != "" {
			server = v
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dropped, err := testdb.DropAbandoned(ctx, server, *template)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cleantestdb:", err)
		os.Exit(1)
	}
	fmt.Printf("cleantestdb: dropped %d test databases nobody was connected to\n", len(dropped))
}
