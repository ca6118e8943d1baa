# elbus broker image.
#   docker build -t elbus .
#   docker run -p 7777:7777 -p 9777:9777 -v elbus-sock:/var/run/elbus elbus
# Configuration: /etc/elbus/elbus.yaml (from conf/elbus-docker.yaml); mount a
# directory over /etc/elbus to replace it (an aaa.yaml can live there too).

FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY mvnw pom.xml ./
COPY .mvn .mvn
RUN ./mvnw -B -q dependency:go-offline
COPY src src
RUN ./mvnw -B -q package -DskipTests

FROM eclipse-temurin:17-jre
RUN groupadd --system elbus \
 && useradd --system --gid elbus --home-dir /opt/elbus --shell /usr/sbin/nologin elbus \
 && mkdir -p /opt/elbus /etc/elbus /var/run/elbus \
 && chown elbus:elbus /var/run/elbus
COPY --from=build /src/target/elbus.jar /opt/elbus/elbus.jar
COPY conf/elbus-docker.yaml /etc/elbus/elbus.yaml
COPY conf/aaa.yaml /etc/elbus/aaa.yaml.example
USER elbus
WORKDIR /opt/elbus
VOLUME ["/var/run/elbus", "/etc/elbus"]
EXPOSE 7777 9777
# GET /health of the monitoring endpoint (http: in the configuration), in bash alone (no JVM
# started every 30 s, nothing beyond the base image); healthy when it answers 200. A mounted
# configuration without http: makes the container unhealthy: keep it, or override HEALTHCHECK.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9777 && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r -t 5 proto code rest <&3 && [ \"$code\" = 200 ]"]
# exec form: the JVM is PID 1 and receives SIGTERM from `docker stop`
ENTRYPOINT ["java", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/elbus/elbus.jar"]
CMD ["-c", "/etc/elbus/elbus.yaml"]
