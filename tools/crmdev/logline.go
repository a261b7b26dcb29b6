package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// humanLog renders a service's JSON log line (log/slog's JSON handler) for a terminal:
// "13:02:20 INFO gRPC listening addr=127.0.0.1:9101", the other attributes in their order.
// Anything that is not such a line (a panic's stack, a flag error) is returned as it is.
func humanLog(line string) string {
	if !strings.HasPrefix(line, "{") {
		return line
	}
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return line
	}
	var ts, level, msg string
	var attrs []string
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return line
		}
		key, _ := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return line
		}
		var s string
		isString := json.Unmarshal(raw, &s) == nil
		switch {
		case key == "time" && isString:
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				s = t.Local().Format("15:04:05")
			}
			ts = s
		case key == "level" && isString:
			level = s
		case key == "msg" && isString:
			msg = s
		case isString:
			attrs = append(attrs, key+"="+quoteIfNeeded(s))
		default:
			var compact bytes.Buffer
			if json.Compact(&compact, raw) != nil {
				return line
			}
			attrs = append(attrs, key+"="+compact.String())
		}
	}
	out := fmt.Sprintf("%s %-5s %s", ts, level, msg)
	if len(attrs) > 0 {
		out += " " + strings.Join(attrs, " ")
	}
	return out
}

func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"=") {
		return fmt.Sprintf("%q", s)
	}
	return s
}
