// The OpenAPI 3.1 description of the control plane's HTTP API, served at /openapi.json.
enum OpenAPIDocument {
    static let json = #"""
{
 "openapi": "3.1.0",
 "info": {
  "title": "Bulwark control plane",
  "version": "1.0.0",
  "description": "Manage tenants, API keys, zones and RRsets of a Bulwark authoritative DNS server. Every change is checked like a zone file, bumps the SOA serial, is recorded in the zone's history and is served by the DNS server as soon as the call returns. Authenticate with `Authorization: Bearer <key>` (or `X-API-Key`). Mutations accept `If-Match` with the zone's ETag (412 when it changed)."
 },
 "servers": [
  {
   "url": "http://127.0.0.1:8053"
  }
 ],
 "security": [
  {
   "bearer": []
  },
  {
   "apiKey": []
  }
 ],
 "paths": {
  "/openapi.json": {
   "get": {
    "summary": "This document",
    "security": [],
    "operationId": "openapi",
    "responses": {
     "200": {
      "description": "OpenAPI document",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
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
     "200": {
      "description": "ok",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     }
    }
   }
  },
  "/v1/tenants": {
   "get": {
    "summary": "List tenants (operator admin)",
    "operationId": "listTenants",
    "responses": {
     "200": {
      "description": "Tenants",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "tenants": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Tenant"
           }
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
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
        "required": [
         "name"
        ],
        "properties": {
         "name": {
          "type": "string"
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
         "$ref": "#/components/schemas/Tenant"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     },
     "413": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   }
  },
  "/v1/tenants/{tenant}": {
   "parameters": [
    {
     "name": "tenant",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string"
     }
    }
   ],
   "get": {
    "summary": "Get a tenant (operator admin)",
    "operationId": "getTenant",
    "responses": {
     "200": {
      "description": "Tenant",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Tenant"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   },
   "delete": {
    "summary": "Delete a tenant without zones, and its keys (operator admin)",
    "operationId": "deleteTenant",
    "responses": {
     "204": {
      "description": "Deleted"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
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
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "Keys (never their tokens)",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "keys": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Key"
           }
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
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
        "required": [
         "name",
         "role"
        ],
        "properties": {
         "name": {
          "type": "string"
         },
         "role": {
          "$ref": "#/components/schemas/Role"
         },
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
          {
           "$ref": "#/components/schemas/Key"
          },
          {
           "type": "object",
           "required": [
            "token"
           ],
           "properties": {
            "token": {
             "type": "string"
            }
           }
          }
         ]
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "413": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   }
  },
  "/v1/keys/{key}": {
   "parameters": [
    {
     "name": "key",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string"
     }
    },
    {
     "name": "tenant",
     "in": "query",
     "required": false,
     "schema": {
      "type": "string"
     }
    }
   ],
   "delete": {
    "summary": "Revoke an API key (admin)",
    "operationId": "deleteKey",
    "responses": {
     "204": {
      "description": "Deleted"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   }
  },
  "/v1/zones": {
   "get": {
    "summary": "List the tenant's zones",
    "operationId": "listZones",
    "responses": {
     "200": {
      "description": "Zones",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "zones": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Zone"
           }
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   },
   "post": {
    "summary": "Create a zone (write): from name servers (SOA and NS made for you) or from zone-file text",
    "operationId": "createZone",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "name"
        ],
        "additionalProperties": false,
        "properties": {
         "name": {
          "type": "string",
          "examples": [
           "example.org."
          ]
         },
         "nameservers": {
          "type": "array",
          "items": {
           "type": "string"
          }
         },
         "hostmaster": {
          "type": "string",
          "description": "SOA RNAME (default hostmaster.<zone>)"
         },
         "ttl": {
          "type": "integer",
          "minimum": 0,
          "maximum": 2147483647
         },
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
     "201": {
      "description": "Created",
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      },
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ZoneWithRRsets"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     },
     "413": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   }
  },
  "/v1/zones/{zone}": {
   "parameters": [
    {
     "$ref": "#/components/parameters/Zone"
    }
   ],
   "get": {
    "summary": "Get a zone and its RRsets",
    "operationId": "getZone",
    "responses": {
     "200": {
      "description": "Zone",
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      },
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ZoneWithRRsets"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   },
   "delete": {
    "summary": "Delete a zone (write); it stops being served",
    "operationId": "deleteZone",
    "parameters": [
     {
      "$ref": "#/components/parameters/IfMatch"
     }
    ],
    "responses": {
     "204": {
      "description": "Deleted"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "412": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   }
  },
  "/v1/zones/{zone}/zonefile": {
   "parameters": [
    {
     "$ref": "#/components/parameters/Zone"
    }
   ],
   "get": {
    "summary": "Export the zone as zone-file text",
    "operationId": "exportZone",
    "responses": {
     "200": {
      "description": "Zone file",
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      },
      "content": {
       "text/dns": {
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   },
   "put": {
    "summary": "Import zone-file text (write): creates the zone or replaces all its RRsets",
    "operationId": "importZone",
    "parameters": [
     {
      "$ref": "#/components/parameters/IfMatch"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "text/dns": {
       "schema": {
        "type": "string"
       }
      },
      "text/plain": {
       "schema": {
        "type": "string"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "Replaced",
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      },
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Zone"
        }
       }
      }
     },
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Zone"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     },
     "412": {
      "$ref": "#/components/responses/Error"
     },
     "413": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   }
  },
  "/v1/zones/{zone}/history": {
   "parameters": [
    {
     "$ref": "#/components/parameters/Zone"
    },
    {
     "name": "limit",
     "in": "query",
     "required": false,
     "schema": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1000
     }
    }
   ],
   "get": {
    "summary": "The zone's change history (audit trail), newest first; kept after the zone is deleted",
    "operationId": "zoneHistory",
    "responses": {
     "200": {
      "description": "Changes",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "changes": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Change"
           }
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   }
  },
  "/v1/zones/{zone}/rrsets": {
   "parameters": [
    {
     "$ref": "#/components/parameters/Zone"
    }
   ],
   "get": {
    "summary": "List RRsets, optionally filtered by name and type",
    "operationId": "listRRsets",
    "parameters": [
     {
      "name": "name",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "type",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "RRsets",
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      },
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "rrsets": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/RRset"
           }
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   },
   "patch": {
    "summary": "Apply a batch of RRset changes atomically (write): all or nothing",
    "operationId": "changeRRsets",
    "parameters": [
     {
      "$ref": "#/components/parameters/IfMatch"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "changes"
        ],
        "additionalProperties": false,
        "properties": {
         "changes": {
          "type": "array",
          "minItems": 1,
          "items": {
           "$ref": "#/components/schemas/RRsetChange"
          }
         }
        }
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "Applied",
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      },
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Zone"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     },
     "412": {
      "$ref": "#/components/responses/Error"
     },
     "413": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   }
  },
  "/v1/zones/{zone}/rrsets/{name}/{type}": {
   "parameters": [
    {
     "$ref": "#/components/parameters/Zone"
    },
    {
     "name": "name",
     "in": "path",
     "required": true,
     "description": "Owner: absolute, relative to the zone, or @",
     "schema": {
      "type": "string"
     }
    },
    {
     "name": "type",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string"
     }
    }
   ],
   "get": {
    "summary": "Get one RRset",
    "operationId": "getRRset",
    "responses": {
     "200": {
      "description": "RRset",
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      },
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/RRset"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   },
   "put": {
    "summary": "Create or replace one RRset (write)",
    "operationId": "putRRset",
    "parameters": [
     {
      "$ref": "#/components/parameters/IfMatch"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "records"
        ],
        "properties": {
         "ttl": {
          "type": "integer",
          "minimum": 0,
          "maximum": 2147483647
         },
         "records": {
          "type": "array",
          "minItems": 1,
          "items": {
           "type": "string"
          }
         }
        }
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "Stored",
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      },
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/RRset"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "412": {
      "$ref": "#/components/responses/Error"
     },
     "413": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   },
   "delete": {
    "summary": "Delete one RRset (write)",
    "operationId": "deleteRRset",
    "parameters": [
     {
      "$ref": "#/components/parameters/IfMatch"
     }
    ],
    "responses": {
     "204": {
      "description": "Deleted",
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "412": {
      "$ref": "#/components/responses/Error"
     },
     "422": {
      "$ref": "#/components/responses/Error"
     },
     "429": {
      "$ref": "#/components/responses/Error"
     }
    }
   }
  }
 },
 "components": {
  "securitySchemes": {
   "bearer": {
    "type": "http",
    "scheme": "bearer"
   },
   "apiKey": {
    "type": "apiKey",
    "in": "header",
    "name": "X-API-Key"
   }
  },
  "parameters": {
   "Zone": {
    "name": "zone",
    "in": "path",
    "required": true,
    "description": "Zone name (final dot optional)",
    "schema": {
     "type": "string"
    }
   },
   "IfMatch": {
    "name": "If-Match",
    "in": "header",
    "required": false,
    "description": "The zone's ETag: the change is refused with 412 if the zone changed since",
    "schema": {
     "type": "string"
    }
   }
  },
  "headers": {
   "ETag": {
    "description": "The zone's version",
    "schema": {
     "type": "string"
    }
   }
  },
  "responses": {
   "Error": {
    "description": "Error",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   }
  },
  "schemas": {
   "Error": {
    "type": "object",
    "required": [
     "error"
    ],
    "properties": {
     "error": {
      "type": "object",
      "required": [
       "code",
       "message"
      ],
      "properties": {
       "code": {
        "type": "string"
       },
       "message": {
        "type": "string"
       },
       "field": {
        "type": "string",
        "description": "The request field at fault, e.g. changes[1].records[0]"
       }
      }
     }
    }
   },
   "Role": {
    "type": "string",
    "enum": [
     "read",
     "write",
     "admin"
    ]
   },
   "Tenant": {
    "type": "object",
    "required": [
     "id",
     "name"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "name": {
      "type": "string"
     },
     "created": {
      "type": "string",
      "format": "date-time"
     }
    }
   },
   "Key": {
    "type": "object",
    "required": [
     "id",
     "tenant",
     "name",
     "role"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "tenant": {
      "type": "string"
     },
     "name": {
      "type": "string"
     },
     "role": {
      "$ref": "#/components/schemas/Role"
     },
     "created": {
      "type": "string",
      "format": "date-time"
     }
    }
   },
   "Zone": {
    "type": "object",
    "required": [
     "name",
     "serial",
     "version",
     "etag"
    ],
    "properties": {
     "name": {
      "type": "string"
     },
     "serial": {
      "type": "integer"
     },
     "version": {
      "type": "integer"
     },
     "etag": {
      "type": "string"
     },
     "created": {
      "type": "string",
      "format": "date-time"
     },
     "updated": {
      "type": "string",
      "format": "date-time"
     },
     "warnings": {
      "type": "array",
      "items": {
       "type": "string"
      }
     }
    }
   },
   "ZoneWithRRsets": {
    "allOf": [
     {
      "$ref": "#/components/schemas/Zone"
     },
     {
      "type": "object",
      "properties": {
       "rrsets": {
        "type": "array",
        "items": {
         "$ref": "#/components/schemas/RRset"
        }
       }
      }
     }
    ]
   },
   "RRset": {
    "type": "object",
    "required": [
     "name",
     "type",
     "ttl",
     "records"
    ],
    "properties": {
     "name": {
      "type": "string"
     },
     "type": {
      "type": "string"
     },
     "ttl": {
      "type": "integer"
     },
     "records": {
      "type": "array",
      "items": {
       "type": "string"
      },
      "description": "Each record's data in presentation format (RFC 1035 §5.1)"
     }
    }
   },
   "RRsetChange": {
    "type": "object",
    "required": [
     "action",
     "name",
     "type"
    ],
    "additionalProperties": false,
    "properties": {
     "action": {
      "type": "string",
      "enum": [
       "replace",
       "delete"
      ]
     },
     "name": {
      "type": "string"
     },
     "type": {
      "type": "string"
     },
     "ttl": {
      "type": "integer",
      "minimum": 0,
      "maximum": 2147483647
     },
     "records": {
      "type": "array",
      "items": {
       "type": "string"
      }
     }
    }
   },
   "Change": {
    "type": "object",
    "properties": {
     "zone": {
      "type": "string"
     },
     "version": {
      "type": "integer"
     },
     "serial": {
      "type": "integer"
     },
     "action": {
      "type": "string",
      "enum": [
       "create",
       "update",
       "import",
       "delete"
      ]
     },
     "key": {
      "type": "object",
      "properties": {
       "id": {
        "type": "string"
       },
       "name": {
        "type": "string"
       }
      }
     },
     "at": {
      "type": "string",
      "format": "date-time"
     },
     "changes": {
      "type": "array",
      "items": {
       "type": "object"
      }
     }
    }
   }
  }
 }
}
"""#
}
