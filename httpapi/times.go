package httpapi

import (
	"reflect"
	"sync"
	"time"
)

// Every time the API renders is RFC 3339 in UTC with whole seconds
// (2026-11-25T12:00:00Z), whichever package it comes from: holds' and
// movements' times carry the database's microseconds, Stripe's come in
// seconds, and a client comparing them should not meet two formats. The
// domain keeps full precision; writeJSON, through withAPITimes, is the one
// place the API cuts it.
//
// Cutting never shows a hold's expiresAt early: inventory stores hold
// expiries in whole seconds, so for them it changes nothing.

// timeType is time.Time's reflect.Type.
var timeType = reflect.TypeFor[time.Time]()

// apiTime is how the API renders t.
func apiTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Second)
}

// withAPITimes returns v with every time.Time that encoding/json would
// render from it (through fields, pointers, slices, arrays, maps and
// interfaces) rendered by apiTime. v itself is left alone: everything on
// the way to a time is copied. A value whose type cannot hold a time is
// returned as it is, at no cost.
func withAPITimes(v any) any {
	if v == nil || !mayHoldTime(reflect.TypeOf(v)) {
		return v
	}
	c := reflect.New(reflect.TypeOf(v)).Elem()
	c.Set(reflect.ValueOf(v))
	setAPITimes(c)
	return c.Interface()
}

// setAPITimes renders the times within v, a settable shallow copy, by
// apiTime, replacing whatever v shares on the way to them with copies.
func setAPITimes(v reflect.Value) {
	if !mayHoldTime(v.Type()) {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(apiTime(v.Interface().(time.Time))))
			return
		}
		for i := range v.NumField() {
			// An unexported embedded struct's exported fields are settable
			// through it; encoding/json renders them as the outer struct's.
			if f := v.Field(i); f.CanSet() || (v.Type().Field(i).Anonymous && f.Kind() == reflect.Struct) {
				setAPITimes(f)
			}
		}
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() || !v.CanSet() {
			return
		}
		c := reflect.New(v.Elem().Type()).Elem()
		c.Set(v.Elem())
		setAPITimes(c)
		if v.Kind() == reflect.Pointer {
			c = c.Addr()
		}
		v.Set(c)
	case reflect.Slice:
		if v.IsNil() || !v.CanSet() {
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			setAPITimes(c.Index(i))
		}
		v.Set(c)
	case reflect.Array:
		for i := range v.Len() {
			setAPITimes(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() || !v.CanSet() {
			return
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			setAPITimes(e)
			c.SetMapIndex(it.Key(), e)
		}
		v.Set(c)
	}
}

// timeTypes caches mayHoldTime: responses are a few types, encoded often.
var timeTypes sync.Map // reflect.Type → bool

// mayHoldTime reports whether a value of type t can hold a time.Time that
// encoding/json would render. An interface may hold anything.
func mayHoldTime(t reflect.Type) bool {
	if v, ok := timeTypes.Load(t); ok {
		return v.(bool)
	}
	holds := typeHoldsTime(t, map[reflect.Type]bool{})
	timeTypes.Store(t, holds)
	return holds
}

// typeHoldsTime works mayHoldTime out; visiting stops a recursive type from
// looping.
func typeHoldsTime(t reflect.Type, visiting map[reflect.Type]bool) bool {
	if visiting[t] {
		return false
	}
	visiting[t] = true
	defer delete(visiting, t)
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Struct:
		if t == timeType {
			return true
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if (f.IsExported() || (f.Anonymous && f.Type.Kind() == reflect.Struct)) && typeHoldsTime(f.Type, visiting) {
				return true
			}
		}
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return typeHoldsTime(t.Elem(), visiting)
	}
	return false
}
