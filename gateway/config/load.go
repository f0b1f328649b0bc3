package config

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/livygate/livygate/gateway/secrets"
)

// EnvPrefix starts every environment override.
const EnvPrefix = secrets.ConfigEnvPrefix

// Load reads the YAML file at path over the defaults, then applies LIVYGATE_*
// environment overrides from environ (os.Environ() in production). It does not
// validate; call Validate.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("reading config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, environ); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// EnvName is the environment variable that overrides the field at yamlPath
// ("listen.address" → "LIVYGATE_LISTEN_ADDRESS").
func EnvName(yamlPath string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(yamlPath, ".", "_"))
}

// Fields lists every configurable yaml path, for documentation and tests.
func Fields() []string {
	var out []string
	walkFields(reflect.ValueOf(&Config{}).Elem(), "", func(path string, _ reflect.Value) {
		out = append(out, path)
	})
	return out
}

func applyEnv(cfg *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			env[k] = v
		}
	}
	var errs []error
	walkFields(reflect.ValueOf(cfg).Elem(), "", func(path string, field reflect.Value) {
		name := EnvName(path)
		raw, ok := env[name]
		if !ok {
			return
		}
		delete(env, name)
		if err := setFromString(field, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	})
	// Whatever is left names no field, unless a secret reference points at it.
	for name := range env {
		if !cfg.namesSecretEnv(name) {
			errs = append(errs, fmt.Errorf("%s: unknown configuration variable", name))
		}
	}
	return errors.Join(errs...)
}

// namesSecretEnv reports whether a Secret in cfg reads the variable name, so
// operators may call their secret variables LIVYGATE_SOMETHING.
func (c *Config) namesSecretEnv(name string) bool {
	found := false
	walkFields(reflect.ValueOf(c).Elem(), "", func(path string, field reflect.Value) {
		if strings.HasSuffix(path, ".env") && field.String() == name {
			found = true
		}
	})
	return found
}

// walkFields calls fn for every leaf field under v with its dotted yaml path.
func walkFields(v reflect.Value, prefix string, fn func(path string, field reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("yaml")
		f := v.Field(i)
		if tag == ",inline" {
			walkFields(f, prefix, fn) // a component's fields, at its section's level
			continue
		}
		tag = strings.Split(tag, ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		path := tag
		if prefix != "" {
			path = prefix + "." + tag
		}
		if f.Kind() == reflect.Struct && !isText(f) {
			walkFields(f, path, fn)
			continue
		}
		fn(path, f)
	}
}

// isText reports a field that parses itself from text (hdfs.Mode).
func isText(field reflect.Value) bool {
	return field.CanAddr() && field.Addr().Type().Implements(reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem())
}

// setFromString parses raw into field by its type. Lists are comma-separated,
// or a JSON array of strings.
func setFromString(field reflect.Value, raw string) error {
	if isText(field) {
		return field.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(raw))
	}
	if field.Type() == reflect.TypeOf(time.Duration(0)) {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return err
		}
		field.SetInt(int64(d))
		return nil
	}
	if k := field.Kind(); k == reflect.Map || (k == reflect.Slice && field.Type().Elem().Kind() != reflect.String) {
		// Lists of objects and maps are YAML (or JSON, which YAML reads).
		fresh := reflect.New(field.Type())
		if err := yaml.Unmarshal([]byte(raw), fresh.Interface()); err != nil {
			return fmt.Errorf("not a YAML or JSON value of this shape: %w", err)
		}
		field.Set(fresh.Elem())
		return nil
	}
	switch field.Kind() {
	case reflect.String:
		field.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return err
		}
		field.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return err
		}
		field.SetInt(n)
	case reflect.Slice:
		var items []string
		if strings.HasPrefix(strings.TrimSpace(raw), "[") {
			// A JSON array, for items that contain commas (regexps).
			if err := json.Unmarshal([]byte(raw), &items); err != nil {
				return fmt.Errorf("not a JSON array of strings: %w", err)
			}
			field.Set(reflect.ValueOf(items))
			return nil
		}
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		field.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported type %s", field.Type())
	}
	return nil
}
