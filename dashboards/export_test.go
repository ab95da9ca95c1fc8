package dashboards

// Exclude is exclude, for the test that the excluded panels are the
// MongoDB exporter's.
var Exclude = exclude
