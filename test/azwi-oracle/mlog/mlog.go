// Package mlog is the part of monis.app/mlog's API that azure-workload-identity's pkg/webhook calls
// (New().WithName().WithValues(), Logger.Error, the LogLevel names and Enabled). The module proxy refuses
// monis.app/mlog here, so the oracle replaces it with this: logging only, no part of the mutation.
package mlog

import "fmt"

type LogLevel string

const (
	LevelWarning LogLevel = "warning"
	LevelInfo    LogLevel = "info"
	LevelDebug   LogLevel = "debug"
	LevelTrace   LogLevel = "trace"
	LevelAll     LogLevel = "all"
)

// Enabled reports the default level, info, as mlog does when nothing sets another.
func Enabled(level LogLevel) bool { return level == LevelInfo || level == LevelWarning }

type Logger struct{ values []any }

func New() Logger                                      { return Logger{} }
func (l Logger) WithName(string) Logger                { return l }
func (l Logger) WithValues(kv ...any) Logger           { return Logger{append(l.values, kv...)} }
func (l Logger) Error(msg string, err error, _ ...any) { _ = fmt.Sprint(msg, err) }
func (l Logger) Info(string, ...any)                   {}
func (l Logger) Debug(string, ...any)                  {}
