// BulwarkServer: the query pipeline (bytes → parsed query → policy → lookup → encoded
// answer → bytes), the UDP and TCP transports, configuration and zone reloading.
@_exported import BulwarkZone
