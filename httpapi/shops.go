package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"

	"github.com/checkoutd/checkoutd/inventory"
)

// present is a field of a shop or location request that may be left out
// but, when given, must hold a value of its type. None of these fields can
// be unset, so null is refused as a wrong type rather than read as "left
// out": a client sending it meant something, and it is not what happens.
type present[T any] struct {
	set   bool
	value T
}

// UnmarshalJSON reads the field's value; the decoder names the field in the
// UnmarshalTypeError that a wrong type or null gives.
func (p *present[T]) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return &json.UnmarshalTypeError{Value: "null", Type: reflect.TypeFor[T]()}
	}
	if err := json.Unmarshal(b, &p.value); err != nil {
		return err
	}
	p.set = true
	return nil
}

// ptr is the field's value, or nil when it was left out.
func (p present[T]) ptr() *T {
	if !p.set {
		return nil
	}
	return &p.value
}

type createShopRequest struct {
	ID   present[string] `json:"id"`
	Name present[string] `json:"name"`
}

// createShop creates a shop with its default location: the service
// token's alone. A shop key is answered as if the route did not exist, as
// it is for a shop that is not its own.
func (a *API) createShop(w http.ResponseWriter, r *http.Request) {
	if p, _ := r.Context().Value(principalKey{}).(principal); !p.service {
		writeNotFound(w, "no such route")
		return
	}
	var req createShopRequest
	if !decode(w, r, &req) {
		return
	}
	// The path names no shop, so the budget spent is the one of the shop
	// the body creates, as for the routes naming theirs in the body.
	if !a.limitBody(w, r, req.ID.value) {
		return
	}
	shop, err := a.ledger.CreateShop(r.Context(), req.ID.value, req.Name.value)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, shop)
}

// getShop serves a shop with its settings and locations.
func (a *API) getShop(w http.ResponseWriter, r *http.Request) {
	shop, err := a.ledger.GetShop(r.Context(), pathVar(r, "shopId"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, shop)
}

type updateShopRequest struct {
	Name               present[string] `json:"name"`
	PublicAvailability present[bool]   `json:"publicAvailability"`
	RestockOnRefund    present[bool]   `json:"restockOnRefund"`
}

// updateShop changes the settings the body names; an empty body changes
// nothing and answers with the shop as it is.
func (a *API) updateShop(w http.ResponseWriter, r *http.Request) {
	var req updateShopRequest
	if !decode(w, r, &req) {
		return
	}
	shop, err := a.ledger.UpdateShop(r.Context(), pathVar(r, "shopId"), inventory.ShopUpdate{
		Name: req.Name.ptr(), PublicAvailability: req.PublicAvailability.ptr(), RestockOnRefund: req.RestockOnRefund.ptr(),
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// The public routes here answer by the new setting at once (other
	// replicas within a second: publicFlagTTL).
	a.publicFlags.forget(shop.ID)
	writeJSON(w, http.StatusOK, shop)
}

// locationList is the body of GET .../locations.
type locationList struct {
	Items []inventory.Location `json:"items"`
}

// listLocations serves a shop's locations in allocation order.
func (a *API) listLocations(w http.ResponseWriter, r *http.Request) {
	locations, err := a.ledger.ListLocations(r.Context(), pathVar(r, "shopId"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, locationList{Items: locations})
}

type addLocationRequest struct {
	ID       present[string] `json:"id"`
	Name     present[string] `json:"name"`
	Priority present[int64]  `json:"priority"`
}

// addLocation adds a location to a shop.
func (a *API) addLocation(w http.ResponseWriter, r *http.Request) {
	var req addLocationRequest
	if !decode(w, r, &req) {
		return
	}
	loc, err := a.ledger.AddLocation(r.Context(), pathVar(r, "shopId"), req.ID.value, req.Name.value, req.Priority.value)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, loc)
}

type updateLocationRequest struct {
	Name     present[string] `json:"name"`
	Priority present[int64]  `json:"priority"`
}

// updateLocation changes the settings the body names; an empty body
// changes nothing and answers with the location as it is.
func (a *API) updateLocation(w http.ResponseWriter, r *http.Request) {
	var req updateLocationRequest
	if !decode(w, r, &req) {
		return
	}
	loc, err := a.ledger.UpdateLocation(r.Context(), pathVar(r, "shopId"), pathVar(r, "locationId"), inventory.LocationUpdate{
		Name: req.Name.ptr(), Priority: req.Priority.ptr(),
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, loc)
}
