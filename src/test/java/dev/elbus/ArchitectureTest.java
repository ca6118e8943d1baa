package dev.elbus;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.domain.JavaType;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.EvaluationResult;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The layering of docs/architecture.md as rules over the compiled classes. Each rule holds for
 * the production classes ({@link #holds}); each fails, naming itself, when the deliberate
 * violations of the {@code ArchFixture*} test classes are added ({@link #catchesItsFixture}), so
 * none of them can pass vacuously.
 */
class ArchitectureTest {
  /** The public API packages (what the javadoc documents). */
  static final String[] API = {"dev.elbus", "dev.elbus.client", "dev.elbus.rpc",
      "dev.elbus.aaa", "dev.elbus.eventbus", "dev.elbus.config", "dev.elbus.protocol"};
  /** The broker's implementation, which the client must not need. */
  static final String[] BROKER_INTERNALS = {"dev.elbus.impl.routing..", "dev.elbus.impl.net..",
      "dev.elbus.impl.core..", "dev.elbus.impl.eventbus..", "dev.elbus.impl.config.."};
  /**
   * The classes allowed to use Vert.x's non-public API ({@code io.vertx..internal..}, {@code
   * ..impl..}), each for a reason given in docs/architecture.md.
   */
  static final List<String> VERTX_INTERNALS_ALLOWED = List.of(
      "dev.elbus.impl.net.ListenerVerticle", "dev.elbus.impl.core.BrokerImpl",
      "dev.elbus.impl.codec.Buffers", "dev.elbus.client.NetworkClient",
      "dev.elbus.cli.BenchWorker", "dev.elbus.impl.cluster.HazelcastSetup",
      "dev.elbus.impl.cluster.ClusterNode", "dev.elbus.impl.cluster.Outbound");

  private static final JavaClasses PRODUCTION = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("dev.elbus");
  private static final JavaClasses WITH_FIXTURES = new ClassFileImporter()
      .withImportOption(loc -> !loc.contains("/test-classes/") || loc.contains("/ArchFixture"))
      .importPackages("dev.elbus");

  static Stream<Arguments> rules() {
    return Stream.of(
        Arguments.of(noPackageCycles(), "ArchFixtureProtocolUsesRouting"),
        Arguments.of(protocolDependsOnNothingElse(), "ArchFixtureProtocolUsesRouting"),
        Arguments.of(codecDependsOnProtocolOnly(), "ArchFixtureCodecUsesRpc"),
        Arguments.of(clientFreeOfBrokerInternals(), "ArchFixtureClientUsesBrokerInternals"),
        Arguments.of(routingAndProtocolFreeOfSockets(), "ArchFixtureRoutingUsesSockets"),
        Arguments.of(apiExposesNoImplementationType(), "ArchFixtureApiExposesImpl"),
        Arguments.of(vertxInternalsOnlyWhereAllowed(), "ArchFixtureInternalApis"),
        Arguments.of(applicationLibrariesOnlyInApplications(), "ArchFixtureInternalApis"),
        Arguments.of(hazelcastOnlyInCluster(), "ArchFixtureRoutingUsesHazelcast"),
        Arguments.of(monitoringLibrariesOnlyInTheMonitor(), "ArchFixtureInternalApis"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rules")
  void holds(ArchRule rule, String fixture) {
    rule.check(PRODUCTION);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rules")
  void catchesItsFixture(ArchRule rule, String fixture) {
    EvaluationResult r = rule.evaluate(WITH_FIXTURES);
    assertThat(r.hasViolation()).as("%s with %s", rule.getDescription(), fixture).isTrue();
    String report = r.getFailureReport().toString();
    assertThat(report).contains("Rule '" + rule.getDescription() + "'").contains(fixture);
  }

  /** Every package of the project, root included, is a slice of its own. */
  static ArchRule noPackageCycles() {
    SliceAssignment byPackage = new SliceAssignment() {
      @Override
      public SliceIdentifier getIdentifierOf(JavaClass c) {
        return c.getPackageName().startsWith("dev.elbus") ? SliceIdentifier.of(c.getPackageName())
            : SliceIdentifier.ignore();
      }

      @Override
      public String getDescription() {
        return "packages of dev.elbus";
      }
    };
    return slices().assignedFrom(byPackage).should().beFreeOfCycles()
        .as("no package cycles");
  }

  static ArchRule protocolDependsOnNothingElse() {
    return noClasses().that().resideInAPackage("dev.elbus.protocol..")
        .should().dependOnClassesThat(inProjectOutside("dev.elbus.protocol.."))
        .as("protocol depends on nothing else of the project");
  }

  static ArchRule codecDependsOnProtocolOnly() {
    return noClasses().that().resideInAPackage("dev.elbus.impl.codec..")
        .should().dependOnClassesThat(inProjectOutside("dev.elbus.impl.codec..",
            "dev.elbus.protocol.."))
        .as("the codec depends on the protocol only");
  }

  static ArchRule clientFreeOfBrokerInternals() {
    List<String> forbidden = new ArrayList<>(List.of(BROKER_INTERNALS));
    forbidden.add("dev.elbus");
    return noClasses().that().resideInAnyPackage("dev.elbus.client..", "dev.elbus.rpc..",
            "dev.elbus.cli..")
        .should().dependOnClassesThat().resideInAnyPackage(forbidden.toArray(new String[0]))
        .as("the client never depends on broker internals");
  }

  static ArchRule routingAndProtocolFreeOfSockets() {
    return noClasses().that().resideInAnyPackage("dev.elbus.impl.routing..",
            "dev.elbus.protocol..", "dev.elbus.impl.codec..")
        .should().dependOnClassesThat().resideInAnyPackage("io.netty.channel..",
            "io.vertx.core.net..", "java.net..", "java.nio.channels..")
        .as("routing and protocol are free of sockets");
  }

  static ArchRule apiExposesNoImplementationType() {
    return classes().that().resideInAnyPackage(API).and().arePublic()
        .should(exposeNoImplementationType())
        .as("public API types expose no implementation type");
  }

  static ArchRule vertxInternalsOnlyWhereAllowed() {
    DescribedPredicate<JavaClass> allowed = new DescribedPredicate<>("allowed") {
      @Override
      public boolean test(JavaClass c) {
        String outer = c.getName().split("\\$")[0];
        return VERTX_INTERNALS_ALLOWED.contains(outer);
      }
    };
    return noClasses().that(DescribedPredicate.not(allowed))
        .should().dependOnClassesThat().resideInAnyPackage("io.vertx..internal..",
            "io.vertx..impl..")
        .as("non-public Vert.x APIs only in " + names(VERTX_INTERNALS_ALLOWED));
  }

  /** Logback and picocli are optional dependencies: an embedding application has neither. */
  static ArchRule applicationLibrariesOnlyInApplications() {
    return noClasses().that().resideOutsideOfPackages("dev.elbus.server..", "dev.elbus.cli..")
        .should().dependOnClassesThat().resideInAnyPackage("ch.qos.logback..", "picocli..")
        .as("the logging backend and picocli only in the server and the CLI");
  }

  /**
   * Hazelcast (vertx-hazelcast, an optional dependency) only in the cluster package: a single
   * broker, and an embedding application without it, never load it.
   */
  static ArchRule hazelcastOnlyInCluster() {
    return noClasses().that().resideOutsideOfPackages("dev.elbus.impl.cluster..")
        .should().dependOnClassesThat().resideInAnyPackage("com.hazelcast..",
            "io.vertx.spi.cluster..")
        .as("Hazelcast only in the cluster package");
  }

  /**
   * The monitoring endpoint's libraries (Micrometer, Prometheus, vertx-micrometer-metrics,
   * vertx-health-check) are optional dependencies too: only the monitor and the public meter
   * binder use them, and nothing loads those without the libraries' check (ElbusVerticle).
   */
  static ArchRule monitoringLibrariesOnlyInTheMonitor() {
    return noClasses().that().resideOutsideOfPackage("dev.elbus.impl.monitor..")
        .and().doNotHaveFullyQualifiedName("dev.elbus.ElbusMeters")
        .should().dependOnClassesThat().resideInAnyPackage("io.micrometer..", "io.prometheus..",
            "io.vertx.micrometer..", "io.vertx.ext.healthchecks..")
        .as("the monitoring libraries only in impl.monitor and ElbusMeters");
  }

  private static DescribedPredicate<JavaClass> inProjectOutside(String... allowed) {
    return new DescribedPredicate<>("classes of the project outside " + String.join(", ",
        allowed)) {
      @Override
      public boolean test(JavaClass c) {
        if (!c.getPackageName().startsWith("dev.elbus")) {
          return false;
        }
        for (String a : allowed) {
          if (com.tngtech.archunit.core.domain.PackageMatcher.of(a).matches(c.getPackageName())) {
            return false;
          }
        }
        return true;
      }
    };
  }

  /**
   * No implementation type ({@code dev.elbus.impl..}) in what a public type shows: its supertypes,
   * and the types (type arguments included) of its public and protected fields, constructors and
   * methods, their exceptions too.
   */
  private static ArchCondition<JavaClass> exposeNoImplementationType() {
    return new ArchCondition<>("expose no implementation type") {
      @Override
      public void check(JavaClass c, ConditionEvents events) {
        if (!isAccessible(c)) {
          return;
        }
        List<String> found = new ArrayList<>();
        c.getRawSuperclass().ifPresent(s -> note(found, "extends", Set.of(s)));
        c.getRawInterfaces().forEach(i -> note(found, "implements", Set.of(i)));
        for (JavaField f : c.getFields()) {
          if (visible(f.getModifiers())) {
            note(found, "field " + f.getName(), f.getType().getAllInvolvedRawTypes());
          }
        }
        for (JavaCodeUnit u : c.getCodeUnits()) {
          if (!visible(u.getModifiers()) || u.getModifiers().contains(JavaModifier.SYNTHETIC)
              || u.getModifiers().contains(JavaModifier.BRIDGE)) {
            continue;
          }
          String where = u.getName() + "()";
          note(found, where + " returns", u.getReturnType().getAllInvolvedRawTypes());
          for (JavaType p : u.getParameterTypes()) {
            note(found, where + " takes", p.getAllInvolvedRawTypes());
          }
          u.getThrowsClause().getTypes().forEach(t -> note(found, where + " throws", Set.of(t)));
        }
        for (String f : found) {
          events.add(SimpleConditionEvent.violated(c, c.getName() + ": " + f));
        }
      }
    };
  }

  private static boolean isAccessible(JavaClass c) {
    for (JavaClass k = c; k != null; k = k.getEnclosingClass().orElse(null)) {
      if (!k.getModifiers().contains(JavaModifier.PUBLIC)) {
        return false;
      }
    }
    return true;
  }

  private static boolean visible(Set<JavaModifier> m) {
    return m.contains(JavaModifier.PUBLIC) || m.contains(JavaModifier.PROTECTED);
  }

  private static void note(List<String> found, String where, Set<JavaClass> types) {
    for (JavaClass t : types) {
      if (t.getPackageName().startsWith("dev.elbus.impl")) {
        found.add(where + " " + t.getName());
      }
    }
  }

  private static String names(List<String> classes) {
    List<String> n = new ArrayList<>();
    for (String c : classes) {
      n.add(c.substring(c.lastIndexOf('.') + 1));
    }
    return String.join(", ", n);
  }
}
