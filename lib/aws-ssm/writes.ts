/** Writing parameters: a create-only put (SSM's only lock), an overwrite, and an idempotent delete. */
import { isSsmError, type SsmApi } from "./api.ts";

/** Creates or replaces a String parameter. */
export async function putParameter(api: SsmApi, name: string, value: string): Promise<void> {
  await api.call("PutParameter", { Name: name, Value: value, Type: "String", Overwrite: true });
}

/**
 * Creates a String parameter only if the name is free: true when this call created it, false when
 * it already existed (ParameterAlreadyExists). SSM has no compare-and-swap; this is the lock.
 */
export async function createParameter(api: SsmApi, name: string, value: string): Promise<boolean> {
  try {
    await api.call("PutParameter", { Name: name, Value: value, Type: "String", Overwrite: false });
    return true;
  } catch (error) {
    if (isSsmError(error, "ParameterAlreadyExists")) return false;
    throw error;
  }
}

/** Deletes a parameter; one that is already gone is fine. */
export async function deleteParameter(api: SsmApi, name: string): Promise<void> {
  try {
    await api.call("DeleteParameter", { Name: name });
  } catch (error) {
    if (!isSsmError(error, "ParameterNotFound")) throw error;
  }
}
