{
  "targets": [
    { "target_name": "reuseport", "sources": [ "native/reuseport.c" ] },
    { "target_name": "memory", "sources": [ "native/memory.c" ] }
  ]
}
