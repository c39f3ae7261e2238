package fork

// TreeFiles lets external tests list a fork's files as the tree hash does.
var TreeFiles = treeFiles
