# Embeds data files (SoC tables, parameter docs, the AMCT .proto) into a static
# library so the binary needs no files at run time. Each file becomes an entry
# of amct::embedded::files() keyed by its file name.
function(amct_embed_files target)
  set(out_cpp ${CMAKE_BINARY_DIR}/embedded/${target}.cpp)
  set(script ${CMAKE_SOURCE_DIR}/cmake/embed_files_script.cmake)
  # The file list must reach the script as one argument: a bare ';' would end
  # the shell command.
  string(REPLACE ";" "$<SEMICOLON>" files_argument "${ARGN}")
  add_custom_command(OUTPUT ${out_cpp}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_cpp} "-DFILES=${files_argument}" -P ${script}
    DEPENDS ${ARGN} ${script}
    COMMENT "Embedding data files"
    VERBATIM)
  add_library(${target} STATIC ${out_cpp})
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR})
endfunction()
