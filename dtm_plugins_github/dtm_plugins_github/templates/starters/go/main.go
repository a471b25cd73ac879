// Command %%{name} is a starter program written by dtm; replace it with your code.
package main

import "fmt"

// Hello returns a greeting.
func Hello(name string) string {
	return fmt.Sprintf("Hello, %s!", name)
}

func main() {
	fmt.Println(Hello("world"))
}
