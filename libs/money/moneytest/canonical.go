// Package moneytest helps tests compare values that hold money.Money or decimal.Decimal.
package moneytest

import (
	"reflect"

	"github.com/shopspring/decimal"
)

var decimalType = reflect.TypeFor[decimal.Decimal]()

// Canonical returns a deep copy of v with every decimal.Decimal in canonical form, so that
// assert.Equal (reflect.DeepEqual) compares amounts by value: a decimal is not comparable field
// by field (12.5 may be 125×10⁻¹ or 12500000000×10⁻⁹), and the wire form does not keep the
// exponent. Structs with unexported fields (time.Time and the like) are copied as they are.
func Canonical[T any](v T) T {
	src := reflect.ValueOf(&v).Elem()
	dst := reflect.New(src.Type()).Elem()
	copyCanon(dst, src)
	return dst.Interface().(T)
}

func copyCanon(dst, src reflect.Value) {
	if src.Type() == decimalType {
		d := src.Interface().(decimal.Decimal)
		dst.Set(reflect.ValueOf(decimal.RequireFromString(d.String())))
		return
	}
	switch src.Kind() {
	case reflect.Pointer:
		if !src.IsNil() {
			dst.Set(reflect.New(src.Type().Elem()))
			copyCanon(dst.Elem(), src.Elem())
		}
	case reflect.Interface:
		if !src.IsNil() {
			e := reflect.New(src.Elem().Type()).Elem()
			copyCanon(e, src.Elem())
			dst.Set(e)
		}
	case reflect.Struct:
		for i := range src.NumField() {
			if !src.Type().Field(i).IsExported() {
				dst.Set(src) // time.Time and the like: no decimals inside
				return
			}
		}
		for i := range src.NumField() {
			copyCanon(dst.Field(i), src.Field(i))
		}
	case reflect.Slice:
		if !src.IsNil() {
			dst.Set(reflect.MakeSlice(src.Type(), src.Len(), src.Len()))
			for i := range src.Len() {
				copyCanon(dst.Index(i), src.Index(i))
			}
		}
	case reflect.Map:
		if !src.IsNil() {
			dst.Set(reflect.MakeMapWithSize(src.Type(), src.Len()))
			for it := src.MapRange(); it.Next(); {
				e := reflect.New(src.Type().Elem()).Elem()
				copyCanon(e, it.Value())
				dst.SetMapIndex(it.Key(), e)
			}
		}
	default:
		dst.Set(src)
	}
}
