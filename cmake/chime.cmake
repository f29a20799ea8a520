# One target per folder: chime_library(NAME db SOURCES ... DEPS ...) defines
# chime_db with the alias chime::db, so a dependency between folders is one
# visible line in that folder's CMakeLists.txt.
function(chime_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(chime_${ARG_NAME} STATIC ${ARG_SOURCES})
  add_library(chime::${ARG_NAME} ALIAS chime_${ARG_NAME})
  target_include_directories(chime_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(chime_${ARG_NAME} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# chime_test(NAME foo_test SOURCES ... DEPS ...) builds a GoogleTest binary and
# registers it with ctest. Tests labelled "db" need the PostgreSQL fixture that
# tests/CMakeLists.txt sets up once per ctest run.
function(chime_test)
  cmake_parse_arguments(ARG "DB" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  if(ARG_DB)
    set_tests_properties(${ARG_NAME} PROPERTIES
      FIXTURES_REQUIRED chime_pg
      LABELS db
      ENVIRONMENT "CHIME_TEST_PG_ENV=${CMAKE_BINARY_DIR}/test-pg/env")
  endif()
endfunction()

# Embeds every .sql file of DIR, in file-name order, into a generated C++
# source that defines chime::db::internal::kMigrations.
function(chime_embed_migrations OUT DIR)
  file(GLOB sql_files CONFIGURE_DEPENDS ${DIR}/*.sql)
  list(SORT sql_files)
  set(body "")
  foreach(f ${sql_files})
    get_filename_component(name ${f} NAME)
    file(READ ${f} text)
    # Re-run the embedding whenever a migration's text changes.
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${f})
    string(APPEND body "  {\"${name}\", R\"chime_sql(${text})chime_sql\"},\n")
  endforeach()
  file(CONFIGURE OUTPUT ${OUT} CONTENT
"// Generated from ${DIR} by chime_embed_migrations. Do not edit.
#include \"common/db/migrations.h\"
namespace chime::db::internal {
const std::vector<EmbeddedMigration> kMigrations = {
${body}};
}  // namespace chime::db::internal
")
endfunction()
