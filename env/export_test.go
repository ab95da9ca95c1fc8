package env

// PickPort lets the tests choose the ports StartAPI is given.
var PickPort = &pickPort
