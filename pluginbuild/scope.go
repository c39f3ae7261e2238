package pluginbuild

import (
	"strings"

	"github.com/plugfork/plugfork/internal/closure"
	"github.com/plugfork/plugfork/internal/lockfile"
)

// scopeOf returns the builds the host's forks were scoped to, and how
// fork's output says them; the zero Scope for a host forked for every
// build, or not forked.
func scopeOf(lock *lockfile.Lock) (closure.Scope, string) {
	if lock == nil {
		return closure.Scope{}, ""
	}
	s := closure.Scope{Platforms: lock.Platforms, Tags: lock.Tags}
	platforms, tags := "every platform", "none"
	if len(s.Platforms) > 0 {
		platforms = strings.Join(s.Platforms, ",")
	}
	if len(s.Tags) > 0 {
		tags = strings.Join(s.Tags, ",")
	}
	return s, platforms + ", tags " + tags
}

// outsideScope returns why a plugin build for goos/goarch with the build
// tags (comma-separated) is not one of the builds the host's forks hold
// the files of, "" when it is.
func (h *host) outsideScope(goos, goarch, tags string) string {
	s, text := scopeOf(h.lock)
	why := s.Outside(goos, goarch, strings.FieldsFunc(tags, func(r rune) bool { return r == ',' || r == ' ' }))
	if why == "" {
		return ""
	}
	return "the host's forks hold only the files of the builds they were scoped to (" + text + ", in " + lockfile.Name + "), and this plugin build is not one: " + why +
		"; build the plugin for the scope's platforms and tags, or have the host forked with --platform and --tags that include this build"
}

// scopeNote is what plugin env says of a scoped host: the builds plugins
// may be built for.
func (h *host) scopeNote() string {
	s, text := scopeOf(h.lock)
	if s.IsZero() {
		return ""
	}
	return "the host's forks are scoped to " + text + " (" + lockfile.Name + "): build plugins for those platforms and tags only, the forks lack the files of other builds"
}
