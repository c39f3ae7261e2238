package fork

import "github.com/plugfork/plugfork/internal/lockfile"

// TreeFiles lets external tests list a fork's files as the tree hash does.
var TreeFiles = lockfile.TreeFiles
