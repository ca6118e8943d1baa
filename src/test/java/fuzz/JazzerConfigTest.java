package fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.elbus.aaa.AaaParser;
import dev.elbus.aaa.AaaPolicy;
import dev.elbus.impl.config.ServerConfig;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * The configuration loaders on JSON trees from fuzz input (vertx-config gives both loaders the
 * same tree for YAML and JSON files): {@code ServerConfig.parse} either returns a configuration or
 * throws an {@code IllegalArgumentException} whose message names the file; {@code
 * AaaParser.parse} never throws, names the file in every error, and a policy it accepts survives
 * a round trip through {@code toJson()} unchanged.
 *
 * <p>Input: UTF-8 JSON text; what is not a JSON object is skipped.
 */
class JazzerConfigTest {
  @FuzzTest(maxDuration = "10m")
  void config(byte[] data) {
    JsonObject json;
    try {
      json = new JsonObject(new String(data, StandardCharsets.UTF_8));
    } catch (DecodeException | ClassCastException e) {
      return;
    }
    try {
      ServerConfig.parse(json.copy(), "fuzz.yaml");
    } catch (IllegalArgumentException e) {
      if (e.getMessage() == null || !e.getMessage().startsWith("fuzz.yaml: ")) {
        throw new AssertionError("configuration error does not name the file: " + e, e);
      }
    }
    AaaParser.Result r = AaaParser.parse(json.copy(), "aaa.yaml");
    if (!r.isOk()) {
      for (String err : r.errors()) {
        if (!err.startsWith("aaa.yaml: ")) {
          throw new AssertionError("AAA error does not name the file: " + err);
        }
      }
      return;
    }
    AaaPolicy p = r.policy();
    AaaParser.Result again = AaaParser.parse(p.toJson(), "again.yaml");
    if (!again.isOk() || !again.policy().equals(p)) {
      throw new AssertionError("AAA policy changed in a toJson round trip: " + p + " -> "
          + again);
    }
  }
}
