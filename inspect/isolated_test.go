package inspect

import (
	"reflect"
	"testing"
)

func TestIsolation(t *testing.T) {
	for _, tt := range []struct {
		name string
		main string
		mods []Module
		want *Isolated
	}{
		{"plain plugin", "example.com/alpha", []Module{{Path: "example.com/widget", Version: "v1.0.0"}}, nil},
		{"root alone", "plugfork.isolated", nil, nil},
		{"id alone", "plugfork.isolated/abc", nil, nil},
		{"look-alike", "plugfork.isolatedx/abc/example.com/alpha", nil, nil},
		{"isolated", "plugfork.isolated/7ea4/example.com/alpha", []Module{
			{Path: "example.com/shared", Version: "v1.2.0"},
			{Path: "plugfork.isolated/9fd7/example.com/widget", Version: "v1.0.0"},
			{Path: "plugfork.isolated/9fd7/gopkg.in/yaml.v3", Version: "v0.0.0-00010101000000-000000000000"},
		}, &Isolated{ID: "7ea4", Module: "example.com/alpha", Copies: []IsolatedCopy{
			{Module: "example.com/widget", Version: "v1.0.0", Path: "plugfork.isolated/9fd7/example.com/widget"},
			{Module: "gopkg.in/yaml.v3", Path: "plugfork.isolated/9fd7/gopkg.in/yaml.v3"},
		}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := isolation(&Binary{Main: Module{Path: tt.main}, Modules: tt.mods})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("isolation = %+v, want %+v", got, tt.want)
			}
		})
	}
}
