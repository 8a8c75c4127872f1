using Microsoft.Extensions.Options;
using OrleansQuant.Model.Demo;

namespace OrleansQuant.Grains.Hosting;

/// <summary>
/// Confines the paths clients send (<see cref="PathRootsOptions"/>) before any file is opened: a path is resolved
/// the way the silo will open it (relative to the silo's directory, <c>..</c> removed from the text as .NET's file APIs
/// do through <see cref="Path.GetFullPath(string)"/>, then every symbolic link on the way followed to its final target)
/// and must lie inside a root, itself resolved the same way. So <c>root/../etc</c>, <c>/etc</c> and <c>root/link</c> with the link pointing outside are all refused, with
/// an <see cref="ArgumentException"/> naming the path, what it resolved to, the roots and the setting to change.
/// A local user who swaps a link between this check and the open is not kept out: the roots guard against clients.
/// </summary>
public sealed class PathRoots(IOptions<PathRootsOptions> options)
{
    // The kernel's own limit on links followed in one lookup (Linux ELOOP); a loop of links is refused by it.
    private const int MaxLinks = 40;

    private static readonly StringComparison s_comparison =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private PathRootsOptions Settings => options.Value;

    /// <summary>
    /// A load's <c>--model</c>: a synthetic model's name, or a bundled or demo model's name that no directory shadows,
    /// is not a path (the silo makes or ships those); anything else is read from and must lie under a model or output root.
    /// </summary>
    public void CheckModel(string model)
    {
        if (!IsModelName(model))
        {
            CheckRead(model, "model");
        }
    }

    /// <summary>A quantize request's calibration file; "self" draws samples from the model and names no file.</summary>
    public void CheckCalibration(string calibration)
    {
        if (!string.Equals(calibration, "self", StringComparison.OrdinalIgnoreCase))
        {
            CheckRead(calibration, "calibration file");
        }
    }

    /// <summary>A path the silo will read: it must lie in (or be) a model or output root.</summary>
    public void CheckRead(string path, string what)
    {
        var settings = Settings;
        if (!settings.Unconfined)
        {
            Check(path, what, [.. settings.ModelRoots, .. settings.OutputRoots], strictlyInside: false,
                $"{PathRootsOptions.Section}:{nameof(PathRootsOptions.ModelRoots)}");
        }
    }

    /// <summary>
    /// A save's target directory: strictly inside an output root, since the save stages beside its target
    /// (<c>.NAME.partial-…</c>) and replaces it, and neither may happen to the root itself or outside it.
    /// </summary>
    public void CheckWrite(string path, string what)
    {
        var settings = Settings;
        if (settings.Unconfined)
        {
            return;
        }

        string setting = $"{PathRootsOptions.Section}:{nameof(PathRootsOptions.OutputRoots)}";
        if (settings.OutputRoots.Count == 0)
        {
            throw new ArgumentException($"{what} '{path}' is refused: this silo confines client paths and allows no writes ({setting} is empty); " +
                $"add a directory to {setting} to allow saves inside it", nameof(path));
        }

        Check(path, what, settings.OutputRoots, strictlyInside: true, setting);
    }

    /// <summary>The real path of <paramref name="path"/>: every link resolved, <c>..</c> applied after; a missing tail stays as written.</summary>
    public static string Resolve(string path)
    {
        int links = 0;
        return Resolve(Path.GetFullPath(path), ref links, path);
    }

    private static void Check(string path, string what, IReadOnlyList<string> roots, bool strictlyInside, string setting)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ArgumentException($"{what} path is empty; expected a path inside {Describe(roots)} ({setting})", nameof(path));
        }

        string real = Resolve(path);
        foreach (string root in roots)
        {
            string realRoot = Resolve(root);
            if (IsInside(real, realRoot, strictlyInside))
            {
                return;
            }
        }

        string resolved = string.Equals(real, Path.GetFullPath(path), s_comparison) ? "" : $" (it resolves to '{real}')";
        string where = strictlyInside ? "inside" : "in or inside";
        throw new ArgumentException(
            $"{what} '{path}'{resolved} is outside the roots this silo allows; expected a path {where} {Describe(roots)} ({setting})", nameof(path));
    }

    private static string Describe(IReadOnlyList<string> roots) => string.Join(", ", roots.Select(r => $"'{Path.GetFullPath(r)}'"));

    private static bool IsInside(string path, string root, bool strictlyInside)
    {
        string trimmed = Path.TrimEndingDirectorySeparator(root);
        if (string.Equals(path, trimmed, s_comparison))
        {
            return !strictlyInside;
        }

        // "/data/models-evil" is not inside "/data/models": compare whole components.
        string prefix = trimmed.EndsWith(Path.DirectorySeparatorChar) ? trimmed : trimmed + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, s_comparison);
    }

    /// <summary>Walks <paramref name="full"/> (absolute) one component at a time from its root, as a lookup would.</summary>
    private static string Resolve(string full, ref int links, string original)
    {
        string root = Path.GetPathRoot(full) ?? Path.DirectorySeparatorChar.ToString();
        string current = root;
        var parts = full[root.Length..].Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i];
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                // Only from a link's target: GetFullPath has removed those of the text already.
                current = Path.GetDirectoryName(current) ?? root;
                continue;
            }

            string next = Path.Combine(current, part);
            FileSystemInfo entry = new FileInfo(next);
            if (entry.LinkTarget is null)
            {
                if (!entry.Exists && !Directory.Exists(next))
                {
                    // Nothing more on disk (a save's new directory): the rest cannot be a link yet.
                    return Path.GetFullPath(Path.Combine([next, .. parts[(i + 1)..]]));
                }

                current = next;
                continue;
            }

            if (++links > MaxLinks)
            {
                throw new ArgumentException($"'{original}' passes through more than {MaxLinks} symbolic links (a loop?)", nameof(original));
            }

            // The link's own target may hold links in its directories: resolve that path as a whole.
            string target = entry.LinkTarget;
            string absolute = Path.IsPathRooted(target) ? target : Path.Combine(current, target);
            current = Resolve(Path.GetFullPath(absolute), ref links, original);
        }

        return current;
    }

    private static bool IsModelName(string model) =>
        SyntheticModels.IsSynthetic(model)
        || (!Directory.Exists(model) && !File.Exists(model)
            && (string.Equals(model, BundledModels.Speaking, StringComparison.OrdinalIgnoreCase)
                || DemoModels.All.Any(s => string.Equals(s.Name, model, StringComparison.OrdinalIgnoreCase))));
}
