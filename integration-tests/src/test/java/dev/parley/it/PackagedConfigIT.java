package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.parley.it.support.Program;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The packaged jars see the settings their modules declare. The shade plugin appends every
 * library's {@code reference.conf} into one file, the later definition wins, and the modules' own
 * file comes first: an override of an Akka setting placed there reverts to Akka's default in the
 * jar while every test on the plain classpath still passes. This reads the configuration as the
 * jar's own {@code ConfigFactory} does, from the jar alone.
 */
class PackagedConfigIT {

  @ParameterizedTest
  @ValueSource(strings = {"parley.server.jar", "parley.client.jar"})
  void shouldRouteAkkaLogsThroughSlf4jAndKeepThemOffTheConsole(String jar) throws Exception {
    try (PackagedConfig config = new PackagedConfig(Program.jar(jar))) {
      assertEquals(List.of("akka.event.slf4j.Slf4jLogger"), config.stringList("akka.loggers"));
      assertEquals("akka.event.slf4j.Slf4jLoggingFilter", config.string("akka.logging-filter"));
      assertEquals("OFF", config.string("akka.stdout-loglevel"));
    }
  }

  @Test
  void shouldRunTheServersActorsOnOneThreadPerCore() throws Exception {
    try (PackagedConfig config = new PackagedConfig(Program.jar("parley.server.jar"))) {
      String executor = "akka.actor.default-dispatcher.fork-join-executor.";
      assertEquals("2", config.string(executor + "parallelism-min"));
      assertEquals("1.0", config.string(executor + "parallelism-factor"));
    }
  }

  /** The configuration a jar loads, through its own copy of the config library. */
  private static final class PackagedConfig implements AutoCloseable {
    private final URLClassLoader loader;
    private final Object config;
    private final Class<?> configType;

    PackagedConfig(Path jar) throws Exception {
      // Only the jar (and the JDK): nothing of this module's classpath may leak in.
      loader =
          new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader());
      Class<?> factory = loader.loadClass("com.typesafe.config.ConfigFactory");
      configType = loader.loadClass("com.typesafe.config.Config");
      config = factory.getMethod("load", ClassLoader.class).invoke(null, loader);
    }

    String string(String path) throws Exception {
      Method getString = configType.getMethod("getString", String.class);
      return (String) getString.invoke(config, path);
    }

    List<?> stringList(String path) throws Exception {
      Method getStringList = configType.getMethod("getStringList", String.class);
      return (List<?>) getStringList.invoke(config, path);
    }

    @Override
    public void close() throws IOException {
      loader.close();
    }
  }
}
