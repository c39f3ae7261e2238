module example.com/plugfork-demo/sdkplugin

go 1.26

require (
	example.com/plugfork-demo/host v0.0.0
	github.com/pkg/errors v0.9.1
)

replace example.com/plugfork-demo/host => ../host
