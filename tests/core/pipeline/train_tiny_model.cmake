# ctest fixture tiny_model: trains the tiny test model with the built `terrasynth` and copies
# the exported package to MODEL_DIR, unless MODEL_DIR holds one at least as new as the binary.
# cmake -DTERRASYNTH=... -DSOURCE_DIR=... -DMODEL_DIR=... -P train_tiny_model.cmake
if(EXISTS "${MODEL_DIR}/model.json" AND NOT "${TERRASYNTH}" IS_NEWER_THAN "${MODEL_DIR}/model.json")
  message(STATUS "tiny model is up to date: ${MODEL_DIR}")
  return()
endif()
set(run_dir "${MODEL_DIR}.run")
file(REMOVE_RECURSE "${run_dir}" "${MODEL_DIR}")
execute_process(
  COMMAND "${TERRASYNTH}" train --config "${SOURCE_DIR}/configs/tiny.json" --output "${run_dir}"
          --steps 4
  WORKING_DIRECTORY "${SOURCE_DIR}"
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "terrasynth train failed (${result})")
endif()
if(NOT EXISTS "${run_dir}/model/model.json")
  message(FATAL_ERROR "terrasynth train exported no model package to ${run_dir}/model")
endif()
file(COPY "${run_dir}/model/" DESTINATION "${MODEL_DIR}")
file(REMOVE_RECURSE "${run_dir}")
message(STATUS "tiny model trained: ${MODEL_DIR}")
