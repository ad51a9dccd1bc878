module github.com/e2eimage/e2e

go 1.26.4
