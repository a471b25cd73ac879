package main

import "testing"

func TestHello(t *testing.T) {
	if got := Hello("dtm"); got != "Hello, dtm!" {
		t.Fatalf("Hello() = %q", got)
	}
}
