// Package inspect reads Go plugin hosts and plugins (ELF binaries) and
// predicts, before anything runs, whether plugin.Open will load each plugin.
package inspect
