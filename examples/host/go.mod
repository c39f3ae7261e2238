module example.com/plugfork-demo/host

go 1.26

require github.com/pkg/errors v0.8.1
