// Dev stack only: a real YARN (one ResourceManager + one NodeManager, the
// daemons Hadoop's MiniYARNCluster wraps, from hadoop-minicluster) on
// 127.0.0.1, on top of the dev HDFS, for `livy.spark.master = yarn`.
//
// Run with Java's single-file launcher against the lib dir that
// `yarn.sh install` fills from Maven Central:
//
//   JAVA_HOME=... java -cp 'lib/*' MiniYarn.java --hadoop-conf HDFS_CONF \
//       --dir WORK --conf-dir CONF --rm-port 8032 --scheduler-port 8030 \
//       --tracker-port 8031 --admin-port 8033 --web-port 8088 \
//       --nm-port 8041 --localizer-port 8040 --nm-web-port 8042
//
// Not MiniYARNCluster itself: it always puts the NodeManager on
// <hostname>:<random port>; here every address is 127.0.0.1 and fixed.
// --hadoop-conf is the running HDFS's client configuration (core-site.xml,
// hdfs-site.xml): fs.defaultFS, the static group mapping for users unknown to
// the OS, and the hadoop.proxyuser.* rules, which the ResourceManager enforces
// for applications submitted through impersonation (spark-submit
// --proxy-user), as the NameNode does.
// Containers run with the DefaultContainerExecutor, i.e. as this JVM's OS
// user; YARN's application user is still the submitting (proxy) user.
// Memory checks are off (dev machine). A yarn-site.xml for clients is written
// to CONF, then one line
//   MINIYARN READY rm=127.0.0.1:PORT web=http://127.0.0.1:PORT nodes=1 ...
// is printed and the process blocks until SIGTERM/SIGINT.

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.metrics2.lib.DefaultMetricsSystem;
import org.apache.hadoop.security.Groups;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.nodemanager.NodeManager;
import org.apache.hadoop.yarn.server.resourcemanager.ResourceManager;

public class MiniYarn {
  private static final String HOST = "127.0.0.1";

  public static void main(String[] args) {
    try {
      run(args);
    } catch (Throwable t) {
      // Daemon threads of a half-started RM/NM would keep the JVM alive.
      t.printStackTrace();
      System.out.println("MINIYARN FAILED: " + t);
      System.out.flush();
      System.exit(1);
    }
  }

  private static void run(String[] args) throws Exception {
    Map<String, Integer> ports = new LinkedHashMap<>();
    ports.put("rm", 8032);
    ports.put("scheduler", 8030);
    ports.put("tracker", 8031);
    ports.put("admin", 8033);
    ports.put("web", 8088);
    ports.put("nm", 8041);
    ports.put("localizer", 8040);
    ports.put("nm-web", 8042);
    File hadoopConf = null;
    File dir = null;
    File confDir = null;
    int nmMemoryMb = 4096;
    int nmVcores = 4;
    int minAllocMb = 128;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.startsWith("--") && a.endsWith("-port") && ports.containsKey(a.substring(2, a.length() - 5))) {
        ports.put(a.substring(2, a.length() - 5), Integer.parseInt(args[++i]));
        continue;
      }
      switch (a) {
        case "--hadoop-conf": hadoopConf = new File(args[++i]).getAbsoluteFile(); break;
        case "--dir": dir = new File(args[++i]).getAbsoluteFile(); break;
        case "--conf-dir": confDir = new File(args[++i]).getAbsoluteFile(); break;
        case "--nm-memory-mb": nmMemoryMb = Integer.parseInt(args[++i]); break;
        case "--nm-vcores": nmVcores = Integer.parseInt(args[++i]); break;
        case "--min-allocation-mb": minAllocMb = Integer.parseInt(args[++i]); break;
        default:
          System.err.println("unknown argument: " + a);
          System.exit(2);
      }
    }
    if (hadoopConf == null || dir == null || confDir == null) {
      System.err.println("usage: MiniYarn --hadoop-conf HDFS_CONF --dir WORK --conf-dir CONF"
          + " [--{rm,scheduler,tracker,admin,web,nm,localizer,nm-web}-port N]..."
          + " [--nm-memory-mb N] [--nm-vcores N] [--min-allocation-mb N]");
      System.exit(2);
    }

    // Settings clients need too (written to yarn-site.xml).
    Map<String, String> yarn = new LinkedHashMap<>();
    yarn.put("yarn.resourcemanager.hostname", HOST);
    yarn.put("yarn.resourcemanager.address", HOST + ":" + ports.get("rm"));
    yarn.put("yarn.resourcemanager.scheduler.address", HOST + ":" + ports.get("scheduler"));
    yarn.put("yarn.resourcemanager.resource-tracker.address", HOST + ":" + ports.get("tracker"));
    yarn.put("yarn.resourcemanager.admin.address", HOST + ":" + ports.get("admin"));
    yarn.put("yarn.resourcemanager.webapp.address", HOST + ":" + ports.get("web"));
    yarn.put("yarn.nodemanager.hostname", HOST);
    yarn.put("yarn.nodemanager.address", HOST + ":" + ports.get("nm"));
    yarn.put("yarn.nodemanager.localizer.address", HOST + ":" + ports.get("localizer"));
    yarn.put("yarn.nodemanager.webapp.address", HOST + ":" + ports.get("nm-web"));
    yarn.put("yarn.scheduler.minimum-allocation-mb", String.valueOf(minAllocMb));
    yarn.put("yarn.scheduler.maximum-allocation-mb", String.valueOf(nmMemoryMb));
    yarn.put("yarn.scheduler.minimum-allocation-vcores", "1");
    yarn.put("yarn.scheduler.maximum-allocation-vcores", String.valueOf(nmVcores));
    yarn.put("yarn.timeline-service.enabled", "false");
    yarn.put("yarn.log-aggregation-enable", "false");

    Configuration conf = new YarnConfiguration();
    conf.addResource(new Path(new File(hadoopConf, "core-site.xml").toURI()));
    conf.addResource(new Path(new File(hadoopConf, "hdfs-site.xml").toURI()));
    yarn.forEach(conf::set);
    // Server-only settings.
    conf.set("yarn.nodemanager.resource.memory-mb", String.valueOf(nmMemoryMb));
    conf.set("yarn.nodemanager.resource.cpu-vcores", String.valueOf(nmVcores));
    conf.setBoolean("yarn.nodemanager.resource.detect-hardware-capabilities", false);
    conf.setBoolean("yarn.nodemanager.pmem-check-enabled", false);
    conf.setBoolean("yarn.nodemanager.vmem-check-enabled", false);
    // A nearly full CI disk must not turn the only node unhealthy.
    conf.setBoolean("yarn.nodemanager.disk-health-checker.enable", false);
    conf.set("yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage", "100.0");
    conf.set("yarn.nodemanager.local-dirs", new File(dir, "nm-local").getPath());
    conf.set("yarn.nodemanager.log-dirs", new File(dir, "nm-logs").getPath());
    conf.set("yarn.nodemanager.container-executor.class",
        "org.apache.hadoop.yarn.server.nodemanager.DefaultContainerExecutor");
    conf.set("yarn.nodemanager.aux-services", "");
    conf.setBoolean("yarn.nodemanager.recovery.enabled", false);
    conf.setBoolean("yarn.resourcemanager.recovery.enabled", false);
    conf.setInt("yarn.resourcemanager.nodemanagers.heartbeat-interval-ms", 500);
    conf.setInt("yarn.resourcemanager.connect.retry-interval.ms", 500);
    conf.set("yarn.nodemanager.container-localizer.java.opts", "-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1");
    // One queue; a session's and a batch's ApplicationMasters side by side.
    conf.set("yarn.resourcemanager.scheduler.class",
        "org.apache.hadoop.yarn.server.resourcemanager.scheduler.capacity.CapacityScheduler");
    conf.set("yarn.scheduler.capacity.root.queues", "default");
    conf.set("yarn.scheduler.capacity.root.default.capacity", "100");
    conf.set("yarn.scheduler.capacity.root.default.maximum-capacity", "100");
    conf.set("yarn.scheduler.capacity.maximum-am-resource-percent", "0.5");
    conf.set("hadoop.tmp.dir", new File(dir, "tmp").getPath());

    Files.createDirectories(dir.toPath());
    UserGroupInformation.setConfiguration(conf);
    Groups.getUserToGroupsMappingService(conf);
    // Two daemons in one JVM register the same metrics sources.
    DefaultMetricsSystem.setMiniClusterMode(true);
    String user = UserGroupInformation.getCurrentUser().getShortUserName();
    System.out.println("MINIYARN starting: user=" + user + " fs.defaultFS=" + conf.get("fs.defaultFS")
        + " ports=" + ports + " nm-memory-mb=" + nmMemoryMb + " dir=" + dir);

    CountDownLatch stop = new CountDownLatch(1);
    for (String sig : new String[] {"TERM", "INT"}) {
      sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> stop.countDown());
    }

    // Both web apps are Guice servlet apps, and GuiceFilter's pipeline is
    // static: the injector created last serves both ports. So the NodeManager
    // starts first (its web server comes up before it registers; it retries
    // until the ResourceManager answers), then the ResourceManager, whose
    // REST API (/ws/v1/cluster/apps) is the one that matters here.
    ResourceManager rm = new ResourceManager();
    rm.init(new YarnConfiguration(conf));
    NodeManager nm = new NodeManager();
    nm.init(new YarnConfiguration(conf));
    Thread nmStart = new Thread(nm::start, "nm-start");
    nmStart.setDaemon(true);
    nmStart.start();
    long deadline = System.currentTimeMillis() + 60_000;
    while (!listening(ports.get("nm-web"))) {
      if (!nmStart.isAlive() || System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("the NodeManager's web server did not start");
      }
      Thread.sleep(100);
    }
    rm.start();

    deadline = System.currentTimeMillis() + 60_000;
    while (rm.getResourceScheduler().getNumClusterNodes() < 1) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("the NodeManager did not register with the ResourceManager in 60 s");
      }
      Thread.sleep(200);
    }

    writeSite(new File(confDir, "yarn-site.xml"), yarn);
    System.out.println("MINIYARN READY rm=" + HOST + ":" + ports.get("rm")
        + " web=http://" + HOST + ":" + ports.get("web")
        + " nodes=" + rm.getResourceScheduler().getNumClusterNodes()
        + " nm=" + HOST + ":" + ports.get("nm") + " memory-mb=" + nmMemoryMb
        + " user=" + user + " conf=" + confDir);
    System.out.flush();
    stop.await();
    System.out.println("MINIYARN stopping");
    try {
      // A clean stop kills running containers first, then waits 7 s for
      // finished applications whose logs the NodeManager still keeps and 10 s
      // for its localizer: give it 5 s in all. yarn.sh stop ends any
      // container left behind (by its pid file).
      Thread stopper = new Thread(() -> {
        nm.stop();
        rm.stop();
      }, "stop");
      stopper.setDaemon(true);
      stopper.start();
      stopper.join(5_000);
    } finally {
      System.out.println("MINIYARN stopped");
      System.out.flush();
      System.exit(0);
    }
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(HOST, port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void writeSite(File f, Map<String, String> props) throws IOException {
    Files.createDirectories(f.getParentFile().toPath());
    File tmp = new File(f.getPath() + ".tmp");
    try (PrintWriter w = new PrintWriter(tmp, StandardCharsets.UTF_8)) {
      w.println("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
      w.println("<!-- Written by deploy/dev/yarn/MiniYarn.java for the running dev YARN. -->");
      w.println("<configuration>");
      for (Map.Entry<String, String> e : props.entrySet()) {
        w.println("  <property><name>" + esc(e.getKey()) + "</name><value>" + esc(e.getValue())
            + "</value></property>");
      }
      w.println("</configuration>");
    }
    Files.move(tmp.toPath(), f.toPath(), StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
