// The OpenAPI 3.1 description of the control plane's HTTP API, served at /openapi.json.
// JSON, short objects on one line. What repeats is written once: the error responses an
// operation can give as `errors(CODE, ...)` (each the shared `#/components/responses/Error`),
// JSON responses as `reply(description, schema, etag:)` with `ref(NAME)` for a schema of
// `components` and `list(property, of: NAME)` for a list call's body; the rest is shared
// through `components` ($ref).
import BulwarkZone

enum OpenAPIDocument {
    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Bulwark control plane",
    "version": "1.0.0",
    "description": "Manage tenants, API keys, zones and RRsets of a Bulwark authoritative DNS server. Every change is checked like a zone file, bumps the SOA serial, is recorded in the zone's history and is served by the DNS server as soon as the call returns. Authenticate with `Authorization: Bearer <key>` (or `X-API-Key`). Mutations accept `If-Match` with the zone's ETag (412 when it changed). Any call may get 503 `store_unavailable` (with Retry-After) while the database cannot be reached, and a write 507 `store_full` while its disk is full: nothing is changed."
  },
  "servers": [{"url": "http://127.0.0.1:8053"}],
  "security": [{"bearer": []}, {"apiKey": []}],
  "paths": {
    "/openapi.json": {
      "get": {
        "summary": "This document",
        "security": [],
        "operationId": "openapi",
        "responses": {
          "200": {
            "description": "OpenAPI document",
            "content": {"application/json": {"schema": {"type": "object"}}}
          }
        }
      }
    },
    "/v1/health": {
      "get": {
        "summary": "Liveness",
        "security": [],
        "operationId": "health",
        "responses": {
          "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}
        }
      }
    },
    "/v1/tenants": {
      "get": {
        "summary": "List tenants (operator admin)",
        "operationId": "listTenants",
        "responses": {
          "200": \#(reply("Tenants", list("tenants", of: "Tenant"))),
          \#(errors(401, 403, 429))
        }
      },
      "post": {
        "summary": "Create a tenant (operator admin)",
        "operationId": "createTenant",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}},
                "additionalProperties": false
              }
            }
          }
        },
        "responses": {
          "201": \#(reply("Created", ref("Tenant"))),
          \#(errors(400, 401, 403, 409, 413, 422, 429))
        }
      }
    },
    "/v1/tenants/{tenant}": {
      "parameters": [{"name": "tenant", "in": "path", "required": true, "schema": {"type": "string"}}],
      "get": {
        "summary": "Get a tenant (operator admin)",
        "operationId": "getTenant",
        "responses": {
          "200": \#(reply("Tenant", ref("Tenant"))),
          \#(errors(401, 403, 404, 422, 429))
        }
      },
      "delete": {
        "summary": "Delete a tenant without zones, and its keys (operator admin)",
        "operationId": "deleteTenant",
        "responses": {
          "204": {"description": "Deleted"},
          \#(errors(401, 403, 404, 409, 422, 429))
        }
      }
    },
    "/v1/keys": {
      "get": {
        "summary": "List the tenant's API keys (admin)",
        "operationId": "listKeys",
        "parameters": [
          {
            "name": "tenant",
            "in": "query",
            "required": false,
            "description": "Another tenant (operator admin only)",
            "schema": {"type": "string"}
          }
        ],
        "responses": {
          "200": \#(reply("Keys (never their tokens)", list("keys", of: "Key"))),
          \#(errors(401, 403, 404, 429))
        }
      },
      "post": {
        "summary": "Create an API key (admin); its token is in this response only",
        "operationId": "createKey",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": ["name", "role"],
                "properties": {
                  "name": {"type": "string"},
                  "role": {"$ref": "#/components/schemas/Role"},
                  "tenant": {
                    "type": "string",
                    "description": "Tenant id (operator admin only; default: the caller's)"
                  }
                },
                "additionalProperties": false
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Created",
            "content": {
              "application/json": {
                "schema": {
                  "allOf": [
                    {"$ref": "#/components/schemas/Key"},
                    {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}}
                  ]
                }
              }
            }
          },
          \#(errors(400, 401, 403, 404, 413, 422, 429))
        }
      }
    },
    "/v1/keys/{key}": {
      "parameters": [
        {"name": "key", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "tenant", "in": "query", "required": false, "schema": {"type": "string"}}
      ],
      "delete": {
        "summary": "Revoke an API key (admin)",
        "operationId": "deleteKey",
        "responses": {
          "204": {"description": "Deleted"},
          \#(errors(401, 403, 404, 422, 429))
        }
      }
    },
    "/v1/zones": {
      "get": {
        "summary": "List the tenant's zones",
        "operationId": "listZones",
        "responses": {
          "200": \#(reply("Zones", list("zones", of: "Zone"))),
          \#(errors(401, 429))
        }
      },
      "post": {
        "summary": "Create a zone (write): from name servers (SOA and NS made for you) or from zone-file text",
        "description": "A zone-file body (text/dns) names the zone in ?name= and is read as it arrives. The reply lists the zone's RRsets when it has at most 1000.",
        "operationId": "createZone",
        "parameters": [
          {
            "name": "name",
            "in": "query",
            "required": false,
            "description": "The zone's name, with a zone-file (text/dns) body",
            "schema": {"type": "string"}
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "text/dns": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
            "application/json": {
              "schema": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": false,
                "properties": {
                  "name": {"type": "string", "examples": ["example.org."]},
                  "nameservers": {"type": "array", "items": {"type": "string"}},
                  "hostmaster": {"type": "string", "description": "SOA RNAME (default hostmaster.<zone>)"},
                  "ttl": {"type": "integer", "minimum": 0, "maximum": 2147483647},
                  "zonefile": {
                    "type": "string",
                    "description": "Zone-file text (RFC 1035 §5); replaces nameservers/hostmaster/ttl"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "201": \#(reply("Created", ref("ZoneWithRRsets"), etag: true)),
          \#(errors(400, 401, 403, 409, 413, 422, 429))
        }
      }
    },
    "/v1/zones/{zone}": {
      "parameters": [{"$ref": "#/components/parameters/Zone"}],
      "get": {
        "summary": "Get a zone and its RRsets",
        "operationId": "getZone",
        "responses": {
          "200": \#(reply("Zone", ref("ZoneWithRRsets"), etag: true)),
          \#(errors(401, 404, 422, 429))
        }
      },
      "delete": {
        "summary": "Delete a zone (write); it stops being served",
        "operationId": "deleteZone",
        "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
        "responses": {
          "204": {"description": "Deleted"},
          \#(errors(401, 403, 404, 412, 422, 429))
        }
      }
    },
    "/v1/zones/{zone}/zonefile": {
      "parameters": [{"$ref": "#/components/parameters/Zone"}],
      "get": {
        "summary": "Export the zone as zone-file text",
        "operationId": "exportZone",
        "responses": {
          "200": {
            "description": "Zone file",
            "headers": {"ETag": {"$ref": "#/components/headers/ETag"}},
            "content": {"text/dns": {"schema": {"type": "string"}}}
          },
          \#(errors(401, 404, 422, 429))
        }
      },
      "put": {
        "summary": "Import zone-file text (write): creates the zone or replaces all its RRsets",
        "description": "The body is read as it arrives (each entry parsed once complete), checked as a zone file is, and stored in one transaction.",
        "operationId": "importZone",
        "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
        "requestBody": {
          "required": true,
          "content": {
            "text/dns": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}}
          }
        },
        "responses": {
          "200": \#(reply("Replaced", ref("Zone"), etag: true)),
          "201": \#(reply("Created", ref("Zone"))),
          \#(errors(400, 401, 403, 404, 409, 412, 413, 422, 429))
        }
      }
    },
    "/v1/zones/{zone}/history": {
      "parameters": [
        {"$ref": "#/components/parameters/Zone"},
        {
          "name": "limit",
          "in": "query",
          "required": false,
          "schema": {"type": "integer", "minimum": 1, "maximum": 1000}
        }
      ],
      "get": {
        "summary": "The zone's change history (audit trail), newest first; kept after the zone is deleted",
        "operationId": "zoneHistory",
        "responses": {
          "200": \#(reply("Changes", list("changes", of: "Change"))),
          \#(errors(401, 404, 422, 429))
        }
      }
    },
    "/v1/zones/{zone}/rrsets": {
      "parameters": [{"$ref": "#/components/parameters/Zone"}],
      "get": {
        "summary": "List RRsets, optionally filtered by name and type",
        "operationId": "listRRsets",
        "parameters": [
          {"name": "name", "in": "query", "required": false, "schema": {"type": "string"}},
          {"name": "type", "in": "query", "required": false, "schema": {"type": "string"}}
        ],
        "responses": {
          "200": \#(reply("RRsets", list("rrsets", of: "RRset"), etag: true)),
          \#(errors(401, 404, 422, 429))
        }
      },
      "patch": {
        "summary": "Apply a batch of RRset changes atomically (write): all or nothing",
        "operationId": "changeRRsets",
        "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": ["changes"],
                "additionalProperties": false,
                "properties": {
                  "changes": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"$ref": "#/components/schemas/RRsetChange"}
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": \#(reply("Applied", ref("Zone"), etag: true)),
          \#(errors(400, 401, 403, 404, 409, 412, 413, 422, 429))
        }
      }
    },
    "/v1/zones/{zone}/rrsets/{name}/{type}": {
      "parameters": [
        {"$ref": "#/components/parameters/Zone"},
        {
          "name": "name",
          "in": "path",
          "required": true,
          "description": "Owner: absolute, relative to the zone, or @",
          "schema": {"type": "string"}
        },
        {"name": "type", "in": "path", "required": true, "schema": {"type": "string"}}
      ],
      "get": {
        "summary": "Get one RRset",
        "operationId": "getRRset",
        "responses": {
          "200": \#(reply("RRset", ref("RRset"), etag: true)),
          \#(errors(401, 404, 422, 429))
        }
      },
      "put": {
        "summary": "Create or replace one RRset (write)",
        "operationId": "putRRset",
        "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": ["records"],
                "properties": {
                  "ttl": {"type": "integer", "minimum": 0, "maximum": 2147483647},
                  "records": {"type": "array", "minItems": 1, "items": {"type": "string"}}
                }
              }
            }
          }
        },
        "responses": {
          "200": \#(reply("Stored", ref("RRset"), etag: true)),
          \#(errors(400, 401, 403, 404, 412, 413, 422, 429))
        }
      },
      "delete": {
        "summary": "Delete one RRset (write)",
        "operationId": "deleteRRset",
        "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
        "responses": {
          "204": {"description": "Deleted", "headers": {"ETag": {"$ref": "#/components/headers/ETag"}}},
          \#(errors(401, 403, 404, 412, 422, 429))
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "bearer": {"type": "http", "scheme": "bearer"},
      "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    },
    "parameters": {
      "Zone": {
        "name": "zone",
        "in": "path",
        "required": true,
        "description": "Zone name (final dot optional)",
        "schema": {"type": "string"}
      },
      "IfMatch": {
        "name": "If-Match",
        "in": "header",
        "required": false,
        "description": "The zone's ETag: the change is refused with 412 if the zone changed since",
        "schema": {"type": "string"}
      }
    },
    "headers": {"ETag": {"description": "The zone's version", "schema": {"type": "string"}}},
    "responses": {
      "Error": {
        "description": "Error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
      }
    },
    "schemas": {
      "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
          "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
              "code": {"type": "string"},
              "message": {"type": "string"},
              "field": {
                "type": "string",
                "description": "The request field at fault, e.g. changes[1].records[0]"
              }
            }
          }
        }
      },
      "Role": {"type": "string", "enum": ["read", "write", "admin"]},
      "Tenant": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {
          "id": {"type": "string"},
          "name": {"type": "string"},
          "created": {"type": "string", "format": "date-time"}
        }
      },
      "Key": {
        "type": "object",
        "required": ["id", "tenant", "name", "role"],
        "properties": {
          "id": {"type": "string"},
          "tenant": {"type": "string"},
          "name": {"type": "string"},
          "role": {"$ref": "#/components/schemas/Role"},
          "created": {"type": "string", "format": "date-time"}
        }
      },
      "Zone": {
        "type": "object",
        "required": ["name", "serial", "version", "etag"],
        "properties": {
          "name": {"type": "string"},
          "serial": {"type": "integer"},
          "version": {"type": "integer"},
          "etag": {"type": "string"},
          "created": {"type": "string", "format": "date-time"},
          "updated": {"type": "string", "format": "date-time"},
          "warnings": {"type": "array", "items": {"type": "string"}}
        }
      },
      "ZoneWithRRsets": {
        "allOf": [
          {"$ref": "#/components/schemas/Zone"},
          {
            "type": "object",
            "properties": {"rrsets": {"type": "array", "items": {"$ref": "#/components/schemas/RRset"}}}
          }
        ]
      },
      "RRset": {
        "type": "object",
        "required": ["name", "type", "ttl", "records"],
        "properties": {
          "name": {"type": "string"},
          "type": {"type": "string"},
          "ttl": {"type": "integer"},
          "records": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Each record's data in presentation format (RFC 1035 §5.1)"
          }
        }
      },
      "RRsetChange": {
        "type": "object",
        "required": ["action", "name", "type"],
        "additionalProperties": false,
        "properties": {
          "action": {"type": "string", "enum": ["replace", "delete"]},
          "name": {"type": "string"},
          "type": {"type": "string"},
          "ttl": {"type": "integer", "minimum": 0, "maximum": 2147483647},
          "records": {"type": "array", "items": {"type": "string"}}
        }
      },
      "Change": {
        "type": "object",
        "properties": {
          "zone": {"type": "string"},
          "version": {"type": "integer"},
          "serial": {"type": "integer"},
          "action": {"type": "string", "enum": ["create", "update", "import", "delete"]},
          "key": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}},
          "at": {"type": "string", "format": "date-time"},
          "changes": {"type": "array", "items": {"type": "object"}}
        }
      }
    }
  }
}
"""#

    /// A response: `description`, the zone's ETag header if `etag`, a JSON body of `schema`.
    private static func reply(_ description: String, _ schema: String, etag: Bool = false) -> String {
        let headers = etag ? ##""headers": {"ETag": {"$ref": "#/components/headers/ETag"}}, "## : ""
        return ##"{"description": "\##(description)", \##(headers)"content": {"application/json": {"schema": \##(schema)}}}"##
    }

    /// The schema `#/components/schemas/NAME`.
    private static func ref(_ name: String) -> String {
        ##"{"$ref": "#/components/schemas/\##(name)"}"##
    }

    /// An object whose `property` is an array of `schema`: what a list call returns.
    private static func list(_ property: String, of schema: String) -> String {
        ##"{"type": "object", "properties": {"\##(property)": {"type": "array", "items": \##(ref(schema))}}}"##
    }

    /// `"CODE": {"$ref": "#/components/responses/Error"}` for each code, comma-separated.
    private static func errors(_ codes: Int...) -> String {
        codes.map { ##""\##($0)": {"$ref": "#/components/responses/Error"}"## }.joined(separator: ",\n")
    }
}
