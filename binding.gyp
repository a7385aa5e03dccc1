{
  "targets": [
    { "target_name": "reuseport", "sources": [ "native/reuseport.c" ] }
  ]
}
