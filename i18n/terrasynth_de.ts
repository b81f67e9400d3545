<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de">
<context>
    <name>Terrasynth</name>
    <message>
        <source>Choose an output folder.</source>
        <translation>Wählen Sie einen Ausgabeordner.</translation>
    </message>
    <message>
        <source>The output folder %1 cannot be written.</source>
        <translation>In den Ausgabeordner %1 kann nicht geschrieben werden.</translation>
    </message>
    <message>
        <source>Draw a region on the map (or use the map extent) first.</source>
        <translation>Zeichnen Sie zuerst ein Gebiet auf der Karte (oder verwenden Sie den Kartenausschnitt).</translation>
    </message>
    <message>
        <source>Terrasynth: generate a region</source>
        <translation>Terrasynth: Gebiet generieren</translation>
    </message>
    <message>
        <source>Generated region</source>
        <translation>Generiertes Gebiet</translation>
    </message>
    <message>
        <source>Choose a layout layer.</source>
        <translation>Wählen Sie einen Layout-Layer.</translation>
    </message>
    <message>
        <source>Choose the field of %1 that holds the classes.</source>
        <translation>Wählen Sie das Feld von %1, das die Klassen enthält.</translation>
    </message>
    <message>
        <source>The layout layer %1 has no features yet.</source>
        <translation>Der Layout-Layer %1 hat noch keine Objekte.</translation>
    </message>
    <message>
        <source>Terrasynth: generate from %1</source>
        <translation>Terrasynth: aus %1 generieren</translation>
    </message>
    <message>
        <source>Generated from %1</source>
        <translation>Generiert aus %1</translation>
    </message>
    <message>
        <source>Choose an OpenStreetMap layer or file (.osm or .pbf).</source>
        <translation>Wählen Sie einen OpenStreetMap-Layer oder eine OpenStreetMap-Datei (.osm oder .pbf).</translation>
    </message>
    <message>
        <source>Draw the region to generate (or use the map extent) first: OpenStreetMap extracts are usually much larger.</source>
        <translation>Zeichnen Sie zuerst das zu generierende Gebiet (oder verwenden Sie den Kartenausschnitt): OpenStreetMap-Auszüge sind meist viel größer.</translation>
    </message>
    <message>
        <source>Terrasynth: generate from OpenStreetMap</source>
        <translation>Terrasynth: aus OpenStreetMap generieren</translation>
    </message>
    <message>
        <source>Choose the raster to inpaint.</source>
        <translation>Wählen Sie das Raster, in dem ein Bereich neu erzeugt werden soll.</translation>
    </message>
    <message>
        <source>The raster %1 is not a file on disk.</source>
        <translation>Das Raster %1 ist keine Datei auf dem Datenträger.</translation>
    </message>
    <message>
        <source>Select the mask polygons in %1 first.</source>
        <translation>Wählen Sie zuerst die Maskenpolygone in %1 aus.</translation>
    </message>
    <message>
        <source>Draw the area to inpaint on the map, or choose a mask layer.</source>
        <translation>Zeichnen Sie den neu zu erzeugenden Bereich auf der Karte oder wählen Sie einen Masken-Layer.</translation>
    </message>
    <message>
        <source>Terrasynth: inpaint %1</source>
        <translation>Terrasynth: Bereich in %1 neu erzeugen</translation>
    </message>
    <message>
        <source>%1 (inpainted)</source>
        <translation>%1 (neu erzeugt)</translation>
    </message>
    <message>
        <source>The %1 has no features to use.</source>
        <translation>Die Geometrie „%1“ enthält keine verwendbaren Objekte.</translation>
    </message>
    <message>
        <source>layout</source>
        <translation>Layout</translation>
    </message>
    <message>
        <source>region</source>
        <translation>Gebiet</translation>
    </message>
    <message>
        <source>mask</source>
        <translation>Maske</translation>
    </message>
    <message>
        <source>Terrasynth layout</source>
        <translation>Terrasynth-Layout</translation>
    </message>
    <message>
        <source>Cannot create the layout layer in %1: %2</source>
        <translation>Der Layout-Layer kann in %1 nicht angelegt werden: %2</translation>
    </message>
    <message>
        <source>unknown error</source>
        <translation>unbekannter Fehler</translation>
    </message>
    <message>
        <source>Cannot open the layout layer just written: %1</source>
        <translation>Der soeben geschriebene Layout-Layer kann nicht geöffnet werden: %1</translation>
    </message>
    <message>
        <source>There is no layout layer to paint on.</source>
        <translation>Es gibt keinen Layout-Layer zum Zeichnen.</translation>
    </message>
    <message>
        <source>The layer %1 has no field &quot;%2&quot;.</source>
        <translation>Der Layer %1 hat kein Feld „%2“.</translation>
    </message>
    <message>
        <source>Cannot transform the shape to the CRS of the layer %1.</source>
        <translation>Die Form kann nicht in das KBS des Layers %1 transformiert werden.</translation>
    </message>
    <message>
        <source>Cannot add the shape to the layer %1: %2</source>
        <translation>Die Form kann nicht zum Layer %1 hinzugefügt werden: %2</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>Cannot write a feature to %1: %2</source>
        <translation>Ein Objekt kann nicht nach %1 geschrieben werden: %2</translation>
    </message>
    <message>
        <source>The layout has no field &quot;%1&quot;.</source>
        <translation>Das Layout hat kein Feld „%1“.</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <source>%1 min</source>
        <translation>%1 Min.</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 Std. %2 Min.</translation>
    </message>
    <message>
        <source>%1 × %2 px, %3 km²</source>
        <translation>%1 × %2 px, %3 km²</translation>
    </message>
    <message>
        <source>, ~%1</source>
        <translation>, ca. %1</translation>
    </message>
    <message>
        <source>This build of the Terrasynth plugin has no generation pipeline: rebuild it with core/pipeline complete.</source>
        <translation>Dieser Build des Terrasynth-Plugins enthält keine Generierungs-Pipeline: Bauen Sie ihn mit vollständigem core/pipeline neu.</translation>
    </message>
    <message>
        <source>The extent %1 has no coordinate reference system.</source>
        <translation>Die Ausdehnung %1 hat kein Koordinatenbezugssystem.</translation>
    </message>
    <message>
        <source>The extent %1 is empty.</source>
        <translation>Die Ausdehnung %1 ist leer.</translation>
    </message>
    <message>
        <source>Terrasynth synthetic aerial imagery</source>
        <translation>Terrasynth – synthetische Luftbilder</translation>
    </message>
    <message>
        <source>Generation</source>
        <translation>Generierung</translation>
    </message>
    <message>
        <source>Model (name or folder; empty = the default model)</source>
        <translation>Modell (Name oder Ordner; leer = Standardmodell)</translation>
    </message>
    <message>
        <source>Ground resolution in metres per pixel (0 = the model&apos;s)</source>
        <translation>Bodenauflösung in Metern pro Pixel (0 = die des Modells)</translation>
    </message>
    <message>
        <source>Scene (e.g. forest, dense_residential)</source>
        <translation>Szene (z. B. forest, dense_residential)</translation>
    </message>
    <message>
        <source>Style or region (e.g. recife; empty = the model&apos;s)</source>
        <translation>Stil oder Region (z. B. recife; leer = der des Modells)</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>Startwert</translation>
    </message>
    <message>
        <source>Sampler</source>
        <translation>Sampler</translation>
    </message>
    <message>
        <source>Model default</source>
        <translation>Modellvorgabe</translation>
    </message>
    <message>
        <source>Sampling steps (0 = the model&apos;s)</source>
        <translation>Sampling-Schritte (0 = die des Modells)</translation>
    </message>
    <message>
        <source>Guidance scale (-1 = the model&apos;s)</source>
        <translation>Guidance-Stärke (-1 = die des Modells)</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <source>As in the Terrasynth settings</source>
        <translation>Wie in den Terrasynth-Einstellungen</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>Automatisch</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>GPU (CUDA)</source>
        <translation>GPU (CUDA)</translation>
    </message>
    <message>
        <source>CPU threads (0 = as in the settings)</source>
        <translation>CPU-Threads (0 = wie in den Einstellungen)</translation>
    </message>
    <message>
        <source>Window size in pixels (0 = the model&apos;s)</source>
        <translation>Fenstergröße in Pixeln (0 = die des Modells)</translation>
    </message>
    <message>
        <source>Window overlap in pixels (-1 = the model&apos;s)</source>
        <translation>Fensterüberlappung in Pixeln (-1 = die des Modells)</translation>
    </message>
    <message>
        <source>Fast tiling (shifted windows)</source>
        <translation>Schnelle Kachelung (verschobene Fenster)</translation>
    </message>
    <message>
        <source>Write a Cloud Optimized GeoTIFF</source>
        <translation>Cloud Optimized GeoTIFF schreiben</translation>
    </message>
    <message>
        <source>Generated image</source>
        <translation>Generiertes Bild</translation>
    </message>
    <message>
        <source>STAC item</source>
        <translation>STAC-Item</translation>
    </message>
    <message>
        <source>No output file was given.</source>
        <translation>Es wurde keine Ausgabedatei angegeben.</translation>
    </message>
    <message>
        <source>Cancelled: %1 was not written.</source>
        <translation>Abgebrochen: %1 wurde nicht geschrieben.</translation>
    </message>
    <message>
        <source>Wrote %1 (%2 × %3 px) in %4 s.</source>
        <translation>%1 geschrieben (%2 × %3 px) in %4 s.</translation>
    </message>
    <message>
        <source>Generate imagery for an extent</source>
        <translation>Bilder für eine Ausdehnung generieren</translation>
    </message>
    <message>
        <source>Generates a synthetic aerial image covering an extent, at a ground resolution, optionally conditioned on a scene class and a style. The output is a georeferenced GeoTIFF (or COG) in the CRS of the extent.</source>
        <translation>Generiert ein synthetisches Luftbild, das eine Ausdehnung in einer Bodenauflösung abdeckt, optional abhängig von einer Szenenklasse und einem Stil. Das Ergebnis ist ein georeferenziertes GeoTIFF (oder COG) im KBS der Ausdehnung.</translation>
    </message>
    <message>
        <source>Extent</source>
        <translation>Ausdehnung</translation>
    </message>
    <message>
        <source>Generate imagery from a layout layer</source>
        <translation>Bilder aus einem Layout-Layer generieren</translation>
    </message>
    <message>
        <source>Generates a synthetic aerial image that follows a layout: polygons (and lines) whose class field holds a class name of the model (building, road, vegetation, water, ...) or its id. Without an extent the layout&apos;s extent is used.</source>
        <translation>Generiert ein synthetisches Luftbild, das einem Layout folgt: Polygone (und Linien), deren Klassenfeld einen Klassennamen des Modells (building, road, vegetation, water, …) oder dessen Nummer enthält. Ohne Ausdehnung wird die Ausdehnung des Layouts verwendet.</translation>
    </message>
    <message>
        <source>Layout layer</source>
        <translation>Layout-Layer</translation>
    </message>
    <message>
        <source>Class field</source>
        <translation>Klassenfeld</translation>
    </message>
    <message>
        <source>Extent (empty = the layout&apos;s)</source>
        <translation>Ausdehnung (leer = die des Layouts)</translation>
    </message>
    <message>
        <source>The layout layer has no field &quot;%1&quot;.</source>
        <translation>Der Layout-Layer hat kein Feld „%1“.</translation>
    </message>
    <message>
        <source>The layout layer is empty.</source>
        <translation>Der Layout-Layer ist leer.</translation>
    </message>
    <message>
        <source>Generate imagery from OpenStreetMap data</source>
        <translation>Bilder aus OpenStreetMap-Daten generieren</translation>
    </message>
    <message>
        <source>Generates a synthetic aerial image from an OpenStreetMap extract (.osm or .pbf): roads, buildings, water and land use become a layout through a tag-to-class mapping (the default one shipped with Terrasynth unless a JSON mapping file is given).</source>
        <translation>Generiert ein synthetisches Luftbild aus einem OpenStreetMap-Auszug (.osm oder .pbf): Straßen, Gebäude, Gewässer und Landnutzung werden über eine Tag-zu-Klasse-Zuordnung zu einem Layout (die mit Terrasynth ausgelieferte Standardzuordnung, sofern keine JSON-Zuordnungsdatei angegeben ist).</translation>
    </message>
    <message>
        <source>OpenStreetMap file</source>
        <translation>OpenStreetMap-Datei</translation>
    </message>
    <message>
        <source>OpenStreetMap files (*.osm *.pbf)</source>
        <translation>OpenStreetMap-Dateien (*.osm *.pbf)</translation>
    </message>
    <message>
        <source>Tag-to-class mapping (empty = the default)</source>
        <translation>Tag-zu-Klasse-Zuordnung (leer = Standard)</translation>
    </message>
    <message>
        <source>The OpenStreetMap file %1 does not exist.</source>
        <translation>Die OpenStreetMap-Datei %1 existiert nicht.</translation>
    </message>
    <message>
        <source>Inpaint a raster area</source>
        <translation>Rasterbereich neu erzeugen (Inpainting)</translation>
    </message>
    <message>
        <source>Regenerates the area of a raster covered by mask polygons and writes the result to a new raster; pixels outside the mask are kept as they are and the input is never modified.</source>
        <translation>Erzeugt den von Maskenpolygonen bedeckten Bereich eines Rasters neu und schreibt das Ergebnis in ein neues Raster; Pixel außerhalb der Maske bleiben unverändert, und die Eingabe wird nie verändert.</translation>
    </message>
    <message>
        <source>Raster to inpaint</source>
        <translation>Zu bearbeitendes Raster</translation>
    </message>
    <message>
        <source>Mask polygons</source>
        <translation>Maskenpolygone</translation>
    </message>
    <message>
        <source>Grow the mask by (metres)</source>
        <translation>Maske erweitern um (Meter)</translation>
    </message>
    <message>
        <source>Feather width in metres (-1 = automatic)</source>
        <translation>Überblendbreite in Metern (-1 = automatisch)</translation>
    </message>
    <message>
        <source>The raster %1 is not a file GDAL can read.</source>
        <translation>Das Raster %1 ist keine Datei, die GDAL lesen kann.</translation>
    </message>
    <message>
        <source>The output %1 is the raster being inpainted: choose another file, the input is never overwritten.</source>
        <translation>Die Ausgabe %1 ist das bearbeitete Raster selbst: Wählen Sie eine andere Datei, die Eingabe wird nie überschrieben.</translation>
    </message>
    <message>
        <source>Texture bank folder: rebuild fine detail from its photos (empty = off)</source>
        <translation>Ordner einer Texturbank: feine Details aus ihren Fotos neu aufbauen (leer = aus)</translation>
    </message>
    <message>
        <source>Continue the classes of the surroundings into the mask</source>
        <translation>Die Klassen der Umgebung in die Maske hinein fortsetzen</translation>
    </message>
    <message>
        <source>Match tone and grain to the surroundings</source>
        <translation>Farbton und Körnung an die Umgebung angleichen</translation>
    </message>
    <message>
        <source>Rebuild fine detail from the surroundings&apos; texture</source>
        <translation>Feine Details aus der Textur der Umgebung neu aufbauen</translation>
    </message>
</context>
<context>
    <name>terrasynth::plugin::OptionsFactory</name>
    <message>
        <source>Terrasynth</source>
        <translation>Terrasynth</translation>
    </message>
</context>
<context>
    <name>terrasynth::plugin::OptionsPage</name>
    <message>
        <source>Model folders</source>
        <translation>Modellordner</translation>
    </message>
    <message>
        <source>Folders searched for Terrasynth models (each model is a folder with a model.json), before the models installed with the plugin.</source>
        <translation>Ordner, in denen vor den mit dem Plugin installierten Modellen nach Terrasynth-Modellen gesucht wird (jedes Modell ist ein Ordner mit einer model.json).</translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation>Ordner hinzufügen…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Entfernen</translation>
    </message>
    <message>
        <source>Computation</source>
        <translation>Berechnung</translation>
    </message>
    <message>
        <source>Automatic (GPU when available)</source>
        <translation>Automatisch (GPU, falls vorhanden)</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>GPU (CUDA)</source>
        <translation>GPU (CUDA)</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <source>All cores (%1)</source>
        <translation>Alle Kerne (%1)</translation>
    </message>
    <message>
        <source>CPU threads</source>
        <translation>CPU-Threads</translation>
    </message>
    <message>
        <source>In use</source>
        <translation>Verwendet</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Ausgabe</translation>
    </message>
    <message>
        <source>Default output folder</source>
        <translation>Standard-Ausgabeordner</translation>
    </message>
    <message>
        <source>Used when the project has not been saved yet; otherwise images go to the project folder unless the dock names another folder.</source>
        <translation>Wird verwendet, solange das Projekt noch nicht gespeichert ist; sonst werden Bilder im Projektordner abgelegt, sofern im Bedienfeld kein anderer Ordner angegeben ist.</translation>
    </message>
    <message>
        <source>Model folder</source>
        <translation>Modellordner</translation>
    </message>
    <message>
        <source>Texture bank (optional)</source>
        <translation>Texturbank (optional)</translation>
    </message>
    <message>
        <source>A folder written by `terrasynth textures` from labelled photos: generated images get their fine detail from its photos (roads and roofs of a layout from real patches), at about 1.5 times the time. Empty: the model&apos;s own detail.</source>
        <translation>Ein von `terrasynth textures` aus beschrifteten Fotos erstellter Ordner: Erzeugte Bilder erhalten ihre feinen Details aus dessen Fotos (Straßen und Dächer eines Layouts aus echten Bildausschnitten), bei etwa 1,5-facher Rechenzeit. Leer: die eigenen Details des Modells.</translation>
    </message>
</context>
<context>
    <name>terrasynth::plugin::TerrasynthDock</name>
    <message>
        <source>Terrasynth</source>
        <translation>Terrasynth</translation>
    </message>
    <message>
        <source>Mode</source>
        <translation>Modus</translation>
    </message>
    <message>
        <source>Region</source>
        <translation>Gebiet</translation>
    </message>
    <message>
        <source>Layout</source>
        <translation>Layout</translation>
    </message>
    <message>
        <source>OSM layers</source>
        <translation>OSM-Layer</translation>
    </message>
    <message>
        <source>Inpaint</source>
        <translation>Neu erzeugen</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>Generieren</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>Terrasynth settings (model folders, device, threads)</source>
        <translation>Terrasynth-Einstellungen (Modellordner, Gerät, Threads)</translation>
    </message>
    <message>
        <source>Rectangle</source>
        <translation>Rechteck</translation>
    </message>
    <message>
        <source>Polygon</source>
        <translation>Polygon</translation>
    </message>
    <message>
        <source>Map extent</source>
        <translation>Kartenausschnitt</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Leeren</translation>
    </message>
    <message>
        <source>Draw a rectangle on the map (drag, or click two corners)</source>
        <translation>Ein Rechteck auf der Karte zeichnen (ziehen oder zwei Ecken anklicken)</translation>
    </message>
    <message>
        <source>Draw a polygon on the map (click the vertices, right-click to close)</source>
        <translation>Ein Polygon auf der Karte zeichnen (Stützpunkte anklicken, Rechtsklick schließt es)</translation>
    </message>
    <message>
        <source>Use the visible map extent</source>
        <translation>Den sichtbaren Kartenausschnitt verwenden</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>Layer</translation>
    </message>
    <message>
        <source>Class field</source>
        <translation>Klassenfeld</translation>
    </message>
    <message>
        <source>New layout layer</source>
        <translation>Neuer Layout-Layer</translation>
    </message>
    <message>
        <source>Create a &quot;Terrasynth layout&quot; GeoPackage layer to paint on</source>
        <translation>Einen GeoPackage-Layer „Terrasynth-Layout“ zum Zeichnen anlegen</translation>
    </message>
    <message>
        <source>Paint</source>
        <translation>Zeichnen</translation>
    </message>
    <message>
        <source>Rotated box</source>
        <translation>Gedrehtes Rechteck</translation>
    </message>
    <message>
        <source>Paint a polygon of the chosen class</source>
        <translation>Ein Polygon der gewählten Klasse zeichnen</translation>
    </message>
    <message>
        <source>Paint a rotated box of the chosen class: click two corners of one side, then click to set its width</source>
        <translation>Ein gedrehtes Rechteck der gewählten Klasse zeichnen: zwei Ecken einer Seite anklicken, dann klicken, um die Breite festzulegen</translation>
    </message>
    <message>
        <source>Field values to classes</source>
        <translation>Feldwerte zu Klassen</translation>
    </message>
    <message>
        <source>Read values</source>
        <translation>Werte lesen</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>Wert</translation>
    </message>
    <message>
        <source>Class</source>
        <translation>Klasse</translation>
    </message>
    <message>
        <source>Without a table, the field must hold class names or ids.</source>
        <translation>Ohne Tabelle muss das Feld Klassennamen oder -nummern enthalten.</translation>
    </message>
    <message>
        <source>OpenStreetMap</source>
        <translation>OpenStreetMap</translation>
    </message>
    <message>
        <source>OpenStreetMap files (.osm, .pbf) among the project&apos;s layers</source>
        <translation>OpenStreetMap-Dateien (.osm, .pbf) unter den Layern des Projekts</translation>
    </message>
    <message>
        <source>Project layer</source>
        <translation>Projekt-Layer</translation>
    </message>
    <message>
        <source>OpenStreetMap files (*.osm *.pbf)</source>
        <translation>OpenStreetMap-Dateien (*.osm *.pbf)</translation>
    </message>
    <message>
        <source>or file</source>
        <translation>oder Datei</translation>
    </message>
    <message>
        <source>JSON files (*.json)</source>
        <translation>JSON-Dateien (*.json)</translation>
    </message>
    <message>
        <source>Tag-to-class mapping; empty = the default OSM class mapping</source>
        <translation>Tag-zu-Klasse-Zuordnung; leer = die Standard-OSM-Klassenzuordnung</translation>
    </message>
    <message>
        <source>Class mapping</source>
        <translation>Klassenzuordnung</translation>
    </message>
    <message>
        <source>Roads, buildings, water and land use become classes through the mapping; draw the region to generate above.</source>
        <translation>Straßen, Gebäude, Gewässer und Landnutzung werden über die Zuordnung zu Klassen; zeichnen Sie oben das zu generierende Gebiet.</translation>
    </message>
    <message>
        <source>Raster</source>
        <translation>Raster</translation>
    </message>
    <message>
        <source>Mask drawn on the map</source>
        <translation>Auf der Karte gezeichnete Maske</translation>
    </message>
    <message>
        <source>Mask polygons from a layer</source>
        <translation>Maskenpolygone aus einem Layer</translation>
    </message>
    <message>
        <source>Draw mask</source>
        <translation>Maske zeichnen</translation>
    </message>
    <message>
        <source>Draw a polygon around the area to regenerate</source>
        <translation>Ein Polygon um den neu zu erzeugenden Bereich zeichnen</translation>
    </message>
    <message>
        <source>Selected features only</source>
        <translation>Nur gewählte Objekte</translation>
    </message>
    <message>
        <source> m</source>
        <translation> m</translation>
    </message>
    <message>
        <source>Grow mask by</source>
        <translation>Maske erweitern um</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>Automatisch</translation>
    </message>
    <message>
        <source>Feather</source>
        <translation>Überblendung</translation>
    </message>
    <message>
        <source>The result is a new layer; the raster itself is never changed.</source>
        <translation>Das Ergebnis ist ein neuer Layer; das Raster selbst wird nie verändert.</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Parameter</translation>
    </message>
    <message>
        <source> m/px</source>
        <translation> m/px</translation>
    </message>
    <message>
        <source>Ground resolution of the output; the clear button restores the model&apos;s</source>
        <translation>Bodenauflösung der Ausgabe; die Löschen-Schaltfläche stellt die des Modells wieder her</translation>
    </message>
    <message>
        <source>Resolution</source>
        <translation>Auflösung</translation>
    </message>
    <message>
        <source>Model default</source>
        <translation>Modellvorgabe</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>Schritte</translation>
    </message>
    <message>
        <source>Sampler</source>
        <translation>Sampler</translation>
    </message>
    <message>
        <source>Guidance</source>
        <translation>Guidance</translation>
    </message>
    <message>
        <source>New seed</source>
        <translation>Neuer Startwert</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>Startwert</translation>
    </message>
    <message>
        <source>Scene</source>
        <translation>Szene</translation>
    </message>
    <message>
        <source>Style</source>
        <translation>Stil</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Ausgabe</translation>
    </message>
    <message>
        <source>Project folder</source>
        <translation>Projektordner</translation>
    </message>
    <message>
        <source>Folder</source>
        <translation>Ordner</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>Format</translation>
    </message>
    <message>
        <source>GeoTIFF (tiled, compressed)</source>
        <translation>GeoTIFF (gekachelt, komprimiert)</translation>
    </message>
    <message>
        <source>Cloud Optimized GeoTIFF</source>
        <translation>Cloud Optimized GeoTIFF</translation>
    </message>
    <message>
        <source>No model found</source>
        <translation>Kein Modell gefunden</translation>
    </message>
    <message>
        <source>Add a folder holding Terrasynth models in the settings.</source>
        <translation>Fügen Sie in den Einstellungen einen Ordner mit Terrasynth-Modellen hinzu.</translation>
    </message>
    <message>
        <source>Native resolution: %1 m/px (trained %2–%3 m/px)</source>
        <translation>Native Auflösung: %1 m/px (trainiert %2–%3 m/px)</translation>
    </message>
    <message>
        <source>Classes: %1</source>
        <translation>Klassen: %1</translation>
    </message>
    <message>
        <source>Licence: %1</source>
        <translation>Lizenz: %1</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>(keine)</translation>
    </message>
    <message>
        <source>%1: expect ~%2 per km² at %3 m/px</source>
        <translation>%1: ca. %2 pro km² bei %3 m/px</translation>
    </message>
    <message>
        <source>Generate from layout</source>
        <translation>Aus Layout generieren</translation>
    </message>
    <message>
        <source>Generate from OpenStreetMap</source>
        <translation>Aus OpenStreetMap generieren</translation>
    </message>
    <message>
        <source>No region: the layout layer&apos;s extent is generated.</source>
        <translation>Kein Gebiet: Die Ausdehnung des Layout-Layers wird generiert.</translation>
    </message>
    <message>
        <source>No region yet: draw one on the map.</source>
        <translation>Noch kein Gebiet: Zeichnen Sie eines auf der Karte.</translation>
    </message>
    <message>
        <source>(ignore)</source>
        <translation>(ignorieren)</translation>
    </message>
    <message numerus="yes">
        <source>%n shape(s)</source>
        <translation>
            <numerusform>%n Form</numerusform>
            <numerusform>%n Formen</numerusform>
        </translation>
    </message>
    <message>
        <source>no shape yet</source>
        <translation>noch keine Form</translation>
    </message>
</context>
<context>
    <name>terrasynth::plugin::TerrasynthPlugin</name>
    <message>
        <source>Terrasynth</source>
        <translation>Terrasynth</translation>
    </message>
    <message>
        <source>Show the Terrasynth panel (synthetic aerial imagery)</source>
        <translation>Das Terrasynth-Bedienfeld anzeigen (synthetische Luftbilder)</translation>
    </message>
    <message>
        <source>Draw a rectangular region</source>
        <translation>Ein rechteckiges Gebiet zeichnen</translation>
    </message>
    <message>
        <source>Draw a polygonal region</source>
        <translation>Ein polygonales Gebiet zeichnen</translation>
    </message>
    <message>
        <source>Paint the layout</source>
        <translation>Das Layout zeichnen</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>Generieren</translation>
    </message>
    <message>
        <source>Terrasynth Settings…</source>
        <translation>Terrasynth-Einstellungen…</translation>
    </message>
    <message>
        <source>&amp;Terrasynth</source>
        <translation>&amp;Terrasynth</translation>
    </message>
    <message>
        <source>Terrasynth: drag a rectangle, or click two opposite corners</source>
        <translation>Terrasynth: Rechteck aufziehen oder zwei gegenüberliegende Ecken anklicken</translation>
    </message>
    <message>
        <source>Terrasynth: click the polygon&apos;s vertices; right-click closes it</source>
        <translation>Terrasynth: Stützpunkte des Polygons anklicken; Rechtsklick schließt es</translation>
    </message>
    <message>
        <source>Terrasynth layout</source>
        <translation>Terrasynth-Layout</translation>
    </message>
    <message>
        <source>Terrasynth region: %1</source>
        <translation>Terrasynth-Gebiet: %1</translation>
    </message>
    <message>
        <source>This build of the Terrasynth plugin has no generation pipeline.</source>
        <translation>Dieser Build des Terrasynth-Plugins enthält keine Generierungs-Pipeline.</translation>
    </message>
    <message>
        <source>Queued: %1</source>
        <translation>In der Warteschlange: %1</translation>
    </message>
    <message>
        <source>Running: %1</source>
        <translation>Läuft: %1</translation>
    </message>
    <message>
        <source>%1: %2 × %3 px in %4 s, written to %5</source>
        <translation>%1: %2 × %3 px in %4 s, geschrieben nach %5</translation>
    </message>
    <message>
        <source>Cannot open the generated raster %1.</source>
        <translation>Das generierte Raster %1 kann nicht geöffnet werden.</translation>
    </message>
    <message>
        <source>%1: cancelled.</source>
        <translation>%1: abgebrochen.</translation>
    </message>
    <message>
        <source>%1 failed: %2</source>
        <translation>%1 fehlgeschlagen: %2</translation>
    </message>
</context>
</TS>
