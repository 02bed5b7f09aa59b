# Embeds data files (SoC tables, parameter docs, the AMCT .proto) into a static
# library so the binary needs no files at run time. Each file becomes an entry
# of amct::embedded::files() keyed by its file name.
function(amct_embed_files target)
  set(out_cpp ${CMAKE_BINARY_DIR}/embedded/${target}.cpp)
  set(script ${CMAKE_SOURCE_DIR}/cmake/embed_files_script.cmake)
  # A list in a COMMAND argument is split into separate arguments: pass the
  # file list with '|' between paths instead, the script splits it back.
  string(REPLACE ";" "|" files_arg "${ARGN}")
  add_custom_command(OUTPUT ${out_cpp}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_cpp} "-DFILES=${files_arg}" -P ${script}
    DEPENDS ${ARGN} ${script}
    COMMENT "Embedding data files"
    VERBATIM)
  add_library(${target} STATIC ${out_cpp})
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR})
endfunction()
