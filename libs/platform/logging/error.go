package logging

import "log/slog"

// Err returns the attribute under which evcrm logs an error ("error"), so every service names it
// the same way and log queries find it. A nil err gives an empty attribute, which slog drops.
func Err(err error) slog.Attr {
	if err == nil {
		return slog.Attr{}
	}
	return slog.String("error", err.Error())
}
